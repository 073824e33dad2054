// Konata's own parser (../shared/clients/konata, copied beside node_modules by
// scripts/client-test) reads our Kanata log; every op must match the trace's records.
//
// Usage: tsx konata_check.ts LOG.kanata.log STAGES.json
// STAGES.json is written from the trace by `cargo run -p trace-format --example
// stage_cycles`. Exits 1 with the first mismatches on any difference or warning.

import { readFileSync } from "node:fs";
import { basename } from "node:path";

import { parseTraceFile } from "./konata/src/core/trace_parser.ts";

interface TraceRecord {
    core: number;
    seq: number;
    squashed: boolean;
    fetch: number;
    decode: number | null;
    rename: number | null;
    issue: number | null;
    complete: number | null;
    retire: number | null;
    sb_enter: number | null;
    sb_drain: number | null;
}

type StageSpan = [string, number, number];

// What docs/trace-format.md says the log shows of a record: each stage reached from
// its cycle until the next one's; the op ends at retirement, a store's last drain,
// or the squash.
function expectedLife(r: TraceRecord): { stages: StageSpan[]; end: number } {
    const named: [string, number | null][] = [
        ["F", r.fetch],
        ["D", r.decode],
        ["Rn", r.rename],
        ["Is", r.issue],
        ["Cm", r.complete],
        ["Sb", r.squashed ? null : r.sb_enter],
    ];
    const starts = named.filter((s): s is [string, number] => s[1] !== null);
    starts.sort((a, b) => a[1] - b[1]);
    const end = !r.squashed && r.sb_drain !== null ? r.sb_drain : (r.retire as number);
    const stages = starts.map(([name, start], i): StageSpan =>
        [name, start, i + 1 < starts.length ? starts[i + 1][1] : end]);
    return { stages, end };
}

const [logPath, stagesPath] = process.argv.slice(2);
const expected: { retired: number; records: TraceRecord[] } =
    JSON.parse(readFileSync(stagesPath, "utf8"));

const warnings: string[] = [];
console.warn = (...args: unknown[]) => {
    warnings.push(args.map(String).join(" "));
};
const file = new File([readFileSync(logPath)], basename(logPath));
const result = await parseTraceFile(file);
if (result === null) {
    throw new Error("Konata returned no trace");
}
const { trace, parserName, elapsedMilliseconds } = result;

const problems: string[] = [];
const problem = (text: string) => {
    if (problems.length < 20) {
        problems.push(text);
    }
};
if (parserName !== "OnikiriParser") {
    problem(`read by ${parserName}, not as a Kanata log`);
}
if (warnings.length > 0 || trace.warningCount > 0) {
    problem(`${trace.warningCount} parser warnings: ${warnings.slice(0, 5).join("; ")}`);
}
if (trace.lastID + 1 !== expected.records.length) {
    problem(`${trace.lastID + 1} ops, the trace has ${expected.records.length} records`);
}

let retired = 0;
const lastRidOfCore = new Map<number, number>();
const retireIds = new Set<number>();
for (let id = 0; id < expected.records.length; id++) {
    const r = expected.records[id];
    const op = trace.getOpForScan(id);
    const where = `op ${id} (core ${r.core}, seq ${r.seq})`;
    if (op === undefined) {
        problem(`${where}: missing`);
        continue;
    }
    const { stages, end } = expectedLife(r);
    const lanes = op.lanes.filter((lane) => lane !== null);
    const got: StageSpan[] = (lanes[0]?.stages ?? []).map((s) => [s.name, s.startCycle, s.endCycle]);
    if (lanes.length !== 1 || JSON.stringify(got) !== JSON.stringify(stages)) {
        problem(`${where}: stages ${JSON.stringify(got)}, trace ${JSON.stringify(stages)}`);
    }
    if (op.tid !== r.core || op.gid !== r.seq || op.fetchedCycle !== r.fetch) {
        problem(`${where}: thread ${op.tid}, seq ${op.gid}, fetched ${op.fetchedCycle}`);
    }
    if (op.retiredCycle !== end || op.flush !== r.squashed || op.retired === r.squashed) {
        problem(`${where}: ends ${op.retiredCycle} (flush ${op.flush}), trace ${end} (squashed ${r.squashed})`);
    }
    if (!op.flush) {
        retired++;
        // Each core's retire ids follow its program order (records are in fetch
        // order, which is program order within a core).
        const last = lastRidOfCore.get(r.core) ?? -1;
        if (op.rid <= last) {
            problem(`${where}: retire id ${op.rid} after ${last} on its core`);
        }
        lastRidOfCore.set(r.core, op.rid);
        if (retireIds.has(op.rid)) {
            problem(`${where}: retire id ${op.rid} given twice`);
        }
        retireIds.add(op.rid);
        // Konata's "hide flushed ops" rows look ops up by retire id (interactive,
        // slow: a sample).
        if (retired % 997 === 1 && trace.getOpFromRID(op.rid)?.id !== id) {
            problem(`${where}: retire id ${op.rid} names another op`);
        }
    }
}
if (retired !== expected.retired || trace.lastRID + 1 !== retired) {
    problem(`${retired} retired ops (retire ids up to ${trace.lastRID}), the machine retired ${expected.retired}`);
}

const name = basename(logPath);
if (problems.length > 0) {
    console.error(`konata: ${name}: ${problems.length} problems\n  ${problems.join("\n  ")}`);
    process.exit(1);
}
console.log(
    `konata: ${name}: ${expected.records.length} ops (${retired} retired, ` +
    `${expected.records.length - retired} flushed) parsed in ${elapsedMilliseconds.toFixed(0)} ms, ` +
    "no warnings; every op's stages, end, thread and retire id match the trace",
);
