//! Simulated instructions per host second on the out-of-order machine, for each
//! workload with tracing off and on. Throughput is reported in instructions, so
//! criterion prints "elem/s" = simulated instructions per second.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use synclab_benches::{Workload, machine, measure};

const ITERATIONS: u64 = 20_000;

fn simulation(c: &mut Criterion) {
    let mut group = c.benchmark_group("simulate");
    group.sample_size(10);
    for workload in Workload::ALL {
        let instructions = measure(workload, ITERATIONS, false).instructions;
        group.throughput(Throughput::Elements(instructions));
        for trace in [false, true] {
            let id = format!(
                "{}/trace-{}",
                workload.name(),
                if trace { "on" } else { "off" }
            );
            group.bench_function(id, |b| {
                b.iter_batched(
                    || machine(workload, ITERATIONS, trace),
                    |mut m| {
                        m.run();
                        m.take_trace()
                    },
                    criterion::BatchSize::LargeInput,
                )
            });
        }
    }
    group.finish();
}

criterion_group!(benches, simulation);
criterion_main!(benches);
