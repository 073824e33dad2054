// Chrome DevTools' trace engine (@paulirish/trace_engine, installed pinned by
// scripts/client-test) parses our Chrome JSON: no warnings, and one slice per
// instruction the machine retired.
//
// Usage: node chrome_check.mjs TRACE.json RETIRED
// RETIRED is the machine's own count (the trace metadata's per-core counters).

import { readFileSync } from "node:fs";
import { basename } from "node:path";

import * as Trace from "@paulirish/trace_engine";

// The engine's handlers build DOMRects, which node lacks (the package's README says
// to polyfill it).
globalThis.DOMRect ??= class DOMRect {
    constructor(x = 0, y = 0, width = 0, height = 0) {
        Object.assign(this, { x, y, width, height });
    }
};

const [path, retiredText] = process.argv.slice(2);
const retired = Number(retiredText);
const messages = [];
for (const level of ["warn", "error"]) {
    console[level] = (...args) => messages.push(`${level}: ${args.map(String).join(" ")}`);
}

const json = JSON.parse(readFileSync(path, "utf8"));
const model = Trace.TraceModel.Model.createWithAllHandlers();
const started = performance.now();
await model.parse(json.traceEvents);
const elapsed = performance.now() - started;
const data = model.parsedTrace()?.data;

const problems = [];
if (data === undefined) {
    problems.push("the engine gave no parsed trace");
} else {
    const warnings = data.Warnings.perWarning;
    if (warnings.size > 0) {
        problems.push(`engine warnings: ${[...warnings.keys()].join(", ")}`);
    }
    let slices = 0;
    let threads = 0;
    for (const process of data.Renderer.processes.values()) {
        for (const thread of process.threads.values()) {
            threads++;
            slices += thread.entries.filter((e) => e.ph === "X").length;
        }
    }
    if (slices !== retired) {
        problems.push(`${slices} slices, the machine retired ${retired} instructions`);
    }
    if (problems.length === 0) {
        console.log(
            `chrome: ${basename(path)}: ${json.traceEvents.length} events parsed by the DevTools ` +
            `trace engine in ${elapsed.toFixed(0)} ms, no warnings; ${slices} slices on ${threads} ` +
            `threads = ${retired} retired instructions`,
        );
    }
}
problems.push(...messages);
if (problems.length > 0) {
    process.stderr.write(`chrome: ${basename(path)}:\n  ${problems.join("\n  ")}\n`);
    process.exit(1);
}
