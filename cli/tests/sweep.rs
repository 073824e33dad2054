//! `synclab sweep`, `sweep merge` and `plot` end to end: rows do not depend on
//! --jobs or the shard layout (a merge of shards is byte-identical to one run),
//! a killed sweep resumes to the same file, a changed sweep is refused, and
//! plots are drawn.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{synclab, temp_dir};

const SCENARIO: &str = "scenarios/tests/scenario_data/valid/sb.ron";

/// `synclab sweep` of the store-buffering scenario into `out` with `extra`
/// arguments; the number of jitter values sets its size.
fn sweep_args(out: &Path, jitters: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "sweep",
        SCENARIO,
        "--param",
        &format!("machine.jitter={jitters}"),
        "--param",
        "machine.core.sb_drain_interval=1,4",
        "--seeds",
        "12",
        "-o",
        out.to_str().expect("utf-8 path"),
    ]
    .map(String::from)
    .to_vec();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn run_ok(args: &[String]) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = synclab(&args);
    assert!(
        out.status.success(),
        "synclab {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("results file")
}

fn scratch(name: &str) -> PathBuf {
    temp_dir().join(name)
}

#[test]
fn rows_are_the_same_for_any_jobs_and_shards_and_merge_like_one_run() {
    for ext in ["csv", "jsonl"] {
        let single = scratch(&format!("single.{ext}"));
        run_ok(&sweep_args(
            &single,
            "0,200,400",
            &["--jobs", "1", "--force"],
        ));
        let two = scratch(&format!("two.{ext}"));
        run_ok(&sweep_args(&two, "0,200,400", &["--jobs", "2", "--force"]));
        assert_eq!(read(&single), read(&two), "--jobs changed the rows");
        let lines = read(&single).lines().count();
        assert_eq!(
            lines,
            12 + usize::from(ext == "csv"),
            "2 variants x 3 x 2 points"
        );
        let parts: Vec<PathBuf> = (0..3).map(|i| scratch(&format!("part{i}.{ext}"))).collect();
        for (i, part) in parts.iter().enumerate() {
            let shard = format!("{i}/3");
            run_ok(&sweep_args(
                part,
                "0,200,400",
                &["--shard", &shard, "--force"],
            ));
        }
        let merged = scratch(&format!("merged.{ext}"));
        let mut args = vec![
            "sweep".to_string(),
            "merge".into(),
            merged.display().to_string(),
        ];
        args.extend(parts.iter().rev().map(|p| p.display().to_string()));
        run_ok(&args);
        assert_eq!(
            read(&merged),
            read(&single),
            "merged shards differ from one run"
        );

        // A missing shard is reported, with exit status 1.
        let out = synclab(&[
            "sweep",
            "merge",
            merged.to_str().expect("utf-8"),
            parts[0].to_str().expect("utf-8"),
            parts[2].to_str().expect("utf-8"),
        ]);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("missing points: 1, 4, 7, 10"), "{err}");
    }
}

#[test]
fn shards_of_different_sweeps_are_not_merged() {
    let a = scratch("a.csv");
    let b = scratch("b.csv");
    run_ok(&sweep_args(&a, "0,400", &["--shard", "0/2", "--force"]));
    run_ok(&sweep_args(&b, "0,300", &["--shard", "1/2", "--force"]));
    let merged = scratch("ab.csv");
    let paths = [&merged, &a, &b].map(|p| p.display().to_string());
    let out = synclab(&["sweep", "merge", &paths[0], &paths[1], &paths[2]]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("shards of different sweeps"), "{err}");
}

/// Rows in `path` (CSV, without the header).
fn rows(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count().saturating_sub(1))
}

#[cfg(unix)]
#[test]
fn a_killed_sweep_resumes_to_the_file_of_an_uninterrupted_one() {
    let jitters = "0..990:10"; // 400 points
    let whole = scratch("whole.csv");
    run_ok(&sweep_args(&whole, jitters, &["--force", "--jobs", "2"]));
    let killed = scratch("killed.csv");
    let args = sweep_args(&killed, jitters, &["--force", "--jobs", "2"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_synclab"))
        .args(&args)
        .current_dir(common::workspace())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("synclab runs");
    let start = Instant::now();
    while rows(&killed) < 5 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let left = rows(&killed);
    assert!(
        (5..400).contains(&left),
        "the kill should land mid-sweep: {left} rows"
    );
    // A changed sweep is refused and the file left alone.
    let before = read(&killed);
    let changed = sweep_args(&killed, "0..990:20", &["--resume"]);
    let changed: Vec<&str> = changed.iter().map(String::as_str).collect();
    let out = synclab(&changed);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to mix the results of two sweeps"),
        "{err}"
    );
    assert_eq!(read(&killed), before);
    // The same sweep resumes, skipping what is there.
    let resume = sweep_args(&killed, jitters, &["--resume", "--jobs", "1"]);
    let resume: Vec<&str> = resume.iter().map(String::as_str).collect();
    let out = synclab(&resume);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already in"), "{err}");
    assert_eq!(read(&killed), read(&whole), "resumed file differs");
}

#[test]
fn bad_parameters_are_located_with_a_hint_and_existing_files_kept() {
    let out_file = scratch("bad.csv");
    let out = synclab(&[
        "sweep",
        SCENARIO,
        "--param",
        "machine.core.rob_sise=32",
        "-o",
        out_file.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--param:1:1"), "{err}");
    assert!(err.contains("did you mean \"rob_size\"?"), "{err}");
    std::fs::write(&out_file, "keep").expect("write");
    let args = sweep_args(&out_file, "0", &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = synclab(&args);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(read(&out_file), "keep");
}

#[test]
fn sweep_files_report_errors_at_their_line_and_column() {
    let file = common::temp_file(
        "bad-sweep.ron",
        &format!(
            "(\n  scenario: \"{}\",\n  params: [\"machine.jitter=0,10\", \"kernel.return_to_user=Iret\"],\n)\n",
            common::workspace().join(SCENARIO).display()
        ),
    );
    let out = synclab(&[
        "sweep",
        file.to_str().expect("utf-8"),
        "-o",
        "/dev/null",
        "--force",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad-sweep.ron:3:36"), "{err}");
    assert!(err.contains("does not run the kernel"), "{err}");
}

#[test]
fn plots_are_drawn_as_svg_and_png() {
    let results = scratch("plot.csv");
    run_ok(&sweep_args(&results, "0,200,400", &["--force"]));
    for ext in ["svg", "png"] {
        let picture = scratch(&format!("plot.{ext}"));
        let out = synclab(&[
            "plot",
            results.to_str().expect("utf-8"),
            "--x",
            "machine.jitter",
            "--y",
            "cycles",
            "--group",
            "variant",
            "--where",
            "machine.core.sb_drain_interval=4",
            "-o",
            picture.to_str().expect("utf-8"),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bytes = std::fs::read(&picture).expect("picture");
        match ext {
            "svg" => {
                let text = String::from_utf8_lossy(&bytes);
                assert!(
                    text.contains("<svg") && text.contains("relaxed"),
                    "legend missing"
                );
            }
            _ => assert_eq!(&bytes[1..4], b"PNG"),
        }
    }
    let out = synclab(&[
        "plot",
        results.to_str().expect("utf-8"),
        "--x",
        "machine.jitter",
        "--y",
        "cycles",
        "-o",
        scratch("x.svg").to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2), "rows sharing x without --group");
}

/// The value of `column` in every row of CSV `path`, keyed by `key`'s value.
fn column_by(path: &Path, key: &str, column: &str) -> Vec<(String, String)> {
    let text = read(path);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).expect("column");
    let (k, c) = (at(key), at(column));
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[k].to_string(), cells[c].to_string())
        })
        .collect()
}

fn number(cells: &[(String, String)], key: &str) -> f64 {
    let (_, v) = cells.iter().find(|(k, _)| k == key).expect("row");
    v.parse().expect("number")
}

/// The cycles the machine attributes to serializations and fence drains agree
/// with the run lengths they add (an independent measurement of the same cost).
#[test]
fn attributed_cycles_account_for_what_the_instructions_add() {
    for (variant, reps) in [
        ("serialize", "80"),
        ("none", "80"),
        ("mfence-full-sb", "80"),
        ("stores", "80"),
    ] {
        let file = scratch(&format!("cost-{variant}.csv"));
        let file = file.to_str().expect("utf-8");
        let mut args = vec![
            "sweep",
            "scenarios/sweeps/scenarios/instruction-cost.ron",
            "--variant",
            variant,
        ];
        let param = format!("defines.REPS={reps}");
        args.extend(["--param", &param, "--seeds", "1", "--force", "-o", file]);
        let done = synclab(&args);
        assert!(
            done.status.success(),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
    }
    let cell = |variant: &str, column: &str| {
        number(
            &column_by(&scratch(&format!("cost-{variant}.csv")), "variant", column),
            variant,
        )
    };
    let added = cell("serialize", "cycles") - cell("none", "cycles");
    let attributed = 80.0 * cell("serialize", "serialize_cycles");
    assert!(
        (attributed - added).abs() <= 0.15 * added && attributed > 0.0,
        "80 serializations add {added} cycles, {attributed} attributed"
    );
    assert_eq!(cell("none", "fence_drain_cycles"), 0.0);
    assert_eq!(cell("stores", "fence_drain_cycles"), 0.0);
    assert!(
        cell("mfence-full-sb", "fence_drain_cycles") > 80.0 * 10.0,
        "each MFENCE waits for 56 stores"
    );
}

/// membarrier's span (syscall to return) contains the IPI it waits for.
#[test]
fn membarrier_latency_spans_its_ipi() {
    let out = scratch("mb.csv");
    let done = synclab(&[
        "sweep",
        "scenarios/sweeps/scenarios/membarrier-scaling.ron",
        "--variant",
        "sync-core",
        "--param",
        "cpus=2",
        "--seeds",
        "2",
        "--force",
        "-o",
        out.to_str().expect("utf-8"),
    ]);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let calls = number(&column_by(&out, "variant", "membarrier_calls"), "sync-core");
    let span = number(
        &column_by(&out, "variant", "membarrier_cycles"),
        "sync-core",
    );
    let ipi = number(&column_by(&out, "variant", "ipi_cycles"), "sync-core");
    assert_eq!(
        calls, 1.0,
        "one SYNC_CORE call per run (registrations are not counted)"
    );
    assert!(ipi > 0.0 && span > ipi, "span {span}, IPI {ipi}");
}
