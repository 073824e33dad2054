//! Writing and reading `.synctrace` files of about a million instruction records (the
//! alu-loop workload traced), in memory so the disk does not count. Throughput is in
//! events, so criterion's "elem/s" is trace events per second.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use synclab_benches::{Workload, machine};
use trace_format::{TraceHeader, read_trace, write_trace};

/// About ten instructions per iteration: a million instruction records.
const ITERATIONS: u64 = 100_000;

fn trace_file(c: &mut Criterion) {
    let mut m = machine(Workload::AluLoop, ITERATIONS, true);
    m.run();
    let events = m.take_trace();
    let header = TraceHeader {
        cores: 1,
        seed: 0,
        metadata: r#"{"program":"alu-loop"}"#.into(),
    };
    let mut bytes = Vec::new();
    write_trace(&mut bytes, &header, &events).expect("writing to memory");

    let mut group = c.benchmark_group("trace-file");
    group.sample_size(10);
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function(format!("write/{}-events", events.len()), |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(bytes.len());
            write_trace(&mut out, &header, &events).expect("writing to memory");
            out
        })
    });
    group.bench_function(format!("read/{}-events", events.len()), |b| {
        b.iter(|| read_trace(bytes.as_slice()).expect("a valid trace"))
    });
    group.finish();
}

criterion_group!(benches, trace_file);
criterion_main!(benches);
