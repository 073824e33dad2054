//! Broken litmus files are rejected with the position, the offending text and a hint.

use scenarios::litmus::parse;

/// A correct test that each case below breaks in one place.
const GOOD: &str = "X86 SB
\"PodWR Fre PodWR Fre\"
{ x=0; y=0; }
 P0          | P1          ;
 MOV [x],$1  | MOV [y],$1  ;
 MOV EAX,[y] | MOV EAX,[x] ;
exists (0:EAX=0 /\\ 1:EAX=0)
";

/// `(file text, expected error)`: each is `GOOD` with one edit.
const CASES: &[(&str, &str)] = &[
    (
        "
",
        "bad.litmus:2:1: empty litmus file (at end of input)\n  hint: a litmus test starts with `X86 NAME` or `X86_64 NAME`",
    ),
    (
        "AArch64 SB
{ }
",
        "bad.litmus:1:1: unsupported architecture: `AArch64`\n  hint: the first line must be `X86 NAME` or `X86_64 NAME`",
    ),
    (
        "X86
{ }
",
        "bad.litmus:1:1: missing test name: `X86`\n  hint: the first line must be `ARCH NAME`, e.g. `X86 SB`",
    ),
    (
        "X86 SB extra
{ }
",
        "bad.litmus:1:8: unexpected text after the test name: `extra`\n  hint: test names contain no spaces",
    ),
    (
        "X86 SB
\"unterminated
{ }
",
        "bad.litmus:2:1: unterminated quoted line: `\"unterminated`\n  hint: close the description with `\"`",
    ),
    (
        "X86 SB
(* never closed
{ }
",
        "bad.litmus:2:1: unterminated comment: `(*`\n  hint: close the comment with `*)`",
    ),
    (
        "X86 SB
garbage here
{ }
",
        "bad.litmus:2:1: unexpected line before the init block: `garbage here`\n  hint: expected `{`, a quoted description or a `Key=Value` line",
    ),
    (
        "X86 SB
Generator=diy7
",
        "bad.litmus:3:1: missing init block (at end of input)\n  hint: add `{ }` (initial values) before the thread table",
    ),
    (
        "X86 SB
{ x=0; y=zero; }
",
        "bad.litmus:2:10: expected an integer: `zero`\n  hint: initial values are integers, e.g. `x=1` or `0:EAX=0x10`",
    ),
    (
        "X86 SB
{ x=0; float y; }
",
        "bad.litmus:2:8: unknown type: `float`\n  hint: known types: int, uint64_t, int64_t, uint32_t, int32_t, ...",
    ),
    (
        "X86 SB
{ x=0; 2:EAX=1; }
 P0          | P1          ;
 MOV [x],$1  | MOV [y],$1  ;
exists (0:EAX=0)
",
        "bad.litmus:2:8: thread 2 does not exist: `2:EAX=1`\n  hint: this test has threads 0..1",
    ),
    (
        "X86 SB
{ x=0; 0:EQX=1; }
",
        "bad.litmus:2:10: unknown register: `EQX`\n  hint: x86 registers are EAX, EBX, ECX, EDX, ESI, EDI (or rax, rbx, ... in X86_64)",
    ),
    (
        "X86 SB
{ x=0; y=0;
 P0 ;
",
        "bad.litmus:2:1: unterminated init block: `{`\n  hint: close the init block with `}`",
    ),
    (
        "X86 SB
{ }
 P0          | P2          ;
",
        "bad.litmus:3:16: expected thread header `P1`: `P2`\n  hint: the first table row names the threads in order: `P0 | P1 | ... ;`",
    ),
    (
        "X86 SB
{ }
 P0          | P1          ;
 MOV [x],$1  | MOV [y],$1
 MOV EAX,[y] | MOV EAX,[x] ;
exists (0:EAX=0)
",
        "bad.litmus:4:2: table row must end with `;`: `MOV [x],$1  | MOV [y],$1`\n  hint: end every row of the thread table, including the `P0 | P1` header, with `;`",
    ),
    (
        "X86 SB
{ }
 P0          | P1          ;
 MOV [x],$1  | MOV [y],$1  | MFENCE ;
exists (0:EAX=0)
",
        "bad.litmus:4:2: row has 3 columns but the test has 2 threads: `MOV [x],$1  | MOV [y],$1  | MFENCE`\n  hint: separate one cell per thread with `|`; leave a cell blank if the thread has nothing there",
    ),
    (
        "X86 SB
{ }
 P0          | P1          ;
 MOV [x],$1  | FOO [y],$1  ;
exists (0:EAX=0)
",
        "bad.litmus:4:16: unknown instruction: `FOO`\n  hint: X86 instructions are MOV, MFENCE, XCHG, CMPXCHG and ADD/XOR/INC/DEC on memory, optionally with LOCK",
    ),
    (
        "X86 SB
{ }
 P0          | P1          ;
 MOV [x],$1  | MOV [y,$1  ;
exists (0:EAX=0)
",
        "bad.litmus:4:20: bad operand: `[y`\n  hint: expected a register, an immediate `$n` or a memory operand; memory operands are written `[x]`",
    ),
    (
        "X86 SB
{ }
 P0          | P1          ;
 MOV [x],$1  | MOV EZX,[y]  ;
exists (0:EAX=0)
",
        "bad.litmus:4:20: bad operand: `EZX`\n  hint: expected a register, an immediate `$n` or a memory operand; memory operands are written `[x]`",
    ),
    (
        "X86 SB
{ }
 P0          | P1          ;
 MOV [x],$1  | MOV [y],[x]  ;
exists (0:EAX=0)
",
        "bad.litmus:4:16: invalid `mov` operands: `MOV [y],[x]`\n  hint: mov moves between a register and memory, or an immediate into either; never memory to memory",
    ),
    (
        "X86 SB
{ }
 P0          | P1          ;
 MOV [x],$1  | LOCK MOV [y],$1 ;
exists (0:EAX=0)
",
        "bad.litmus:4:16: `lock` cannot prefix `mov`: `LOCK MOV [y],$1`\n  hint: lock applies to xchg, cmpxchg, add, xor, inc and dec",
    ),
    (
        "X86 SB
{ }
 P0          | P1          ;
 MOV [x],$x  | MFENCE  ;
exists (0:EAX=0)
",
        "bad.litmus:4:10: bad immediate: `$x`\n  hint: immediates are integers, e.g. `$1` or `$0x10`",
    ),
    (
        "X86 SB
{ }
 P0          | P1          ;
 MOV [x],$1  | XCHG [y],$1 ;
exists (0:EAX=0)
",
        "bad.litmus:4:16: `xchg` needs one memory and one register operand: `XCHG [y],$1`\n  hint: X86 instructions are MOV, MFENCE, XCHG, CMPXCHG and ADD/XOR/INC/DEC on memory, optionally with LOCK",
    ),
    (
        "X86 SB
{ }
 P0          | P1          ;
 MOV [x],$1  | MFENCE EAX ;
exists (0:EAX=0)
",
        "bad.litmus:4:16: `mfence` takes 0 operand(s), found 1: `MFENCE EAX`\n  hint: X86 instructions are MOV, MFENCE, XCHG, CMPXCHG and ADD/XOR/INC/DEC on memory, optionally with LOCK",
    ),
    (
        "X86_64 SB
{ }
 P0          | P1          ;
 movl $1,(x) | mov $1,(y) ;
exists (0:rax=0)
",
        "bad.litmus:4:16: operand size unknown: `mov $1,(y)`\n  hint: add a size suffix, e.g. `movl` or `incq`",
    ),
    (
        "X86_64 SB
{ }
 P0          | P1          ;
 movl $1,(x) | movq (y),%eax ;
exists (0:rax=0)
",
        "bad.litmus:4:25: register is 32 bits but the instruction is 64 bits: `%eax`\n  hint: use a register of the instruction's width, e.g. `%eax` with `movl`, `%rax` with `movq`",
    ),
    (
        "X86_64 SB
{ }
 P0          | P1          ;
 movl $1,(x) | movl (y),eax ;
exists (0:rax=0)
",
        "bad.litmus:4:25: bad operand: `eax`\n  hint: expected a register, an immediate `$n` or a memory operand; memory operands are written `(x)`, registers `%eax`",
    ),
    (
        "X86 SB
{ }
 P0          | P1          ;
 MOV [x],$1  | MOV [y],$1  ;
",
        "bad.litmus:5:1: missing final condition (at end of input)\n  hint: end the test with `exists (...)`, `~exists (...)` or `forall (...)`",
    ),
    (
        "X86 SB
{ }
 P0          | P1          ;
 MOV [x],$1  | MOV [y],$1  ;
exists (0:EAX=0 /\\ )
",
        "bad.litmus:5:20: expected a location: `)`\n  hint: write `[x]`, `x` or `T:REG`, e.g. `0:EAX`",
    ),
    (
        "X86 SB
{ }
 P0          | P1          ;
 MOV [x],$1  | MOV [y],$1  ;
exists (0:EAX=0 /\\ 1:EAX=0
",
        "bad.litmus:5:8: unclosed `(`: `(`\n  hint: add the matching `)`",
    ),
    (
        "X86 SB
{ }
 P0          | P1          ;
 MOV [x],$1  | MOV [y],$1  ;
exists (0:EAX=0) junk
",
        "bad.litmus:5:18: unexpected text after the condition: `junk`\n  hint: combine atoms with `/\\` and `\\/`; check the parentheses",
    ),
    (
        "X86 SB
{ }
 P0          | P1          ;
 MOV [x],$1  | MOV [y],$1  ;
exists (5:EAX=0)
",
        "bad.litmus:5:9: thread 5 does not exist: `5:EAX`\n  hint: this test has threads 0..1",
    ),
    (
        "X86 SB
{ }
 P0          | P1          ;
 MOV [x],$1  | MOV [y],$1  ;
exists (0:EAX==0)
",
        "bad.litmus:5:15: expected an integer value: `=`\n  hint: values are decimal or hexadecimal (`0x..`) integers",
    ),
    (
        "X86 SB
{ }
 P0          | P1          ;
 MOV [x],$1  | MOV [y],$1  ;
exists (0:EAX=zero)
",
        "bad.litmus:5:15: expected an integer value: `zero`\n  hint: values are decimal or hexadecimal (`0x..`) integers",
    ),
    (
        "X86 SB
{ }
 P0          | P1          ;
 MOV [x],$1  | MOV [y],$1  ;
filter (0:EAX=0)
exists (0:EAX=0)
",
        "bad.litmus:5:1: expected the final condition: `filter`\n  hint: write `exists (...)`, `~exists (...)` or `forall (...)`; `filter` clauses are not supported",
    ),
    (
        "X86 SB
{ }
 P0          | P1          ;
 MOV [x],$1  | MOV [y],$1  ;
locations [x; 0:EAX
exists (0:EAX=0)
",
        "bad.litmus:5:1: bad locations clause: `locations`\n  hint: write `locations [x; 0:EAX;]`",
    ),
    (
        "X86 SB
{ }
 P0          | P1          ;
 MOV [x],$1  | MOV [y],$1  ;
exists (EAX=0)
",
        "bad.litmus:5:9: expected a location: `EAX`\n  hint: write `[x]`, `x` or `T:REG`, e.g. `0:EAX`",
    ),
    (
        "X86 SB
{ }
exists (x=0)
",
        "bad.litmus:3:1: missing thread table: `exists (x=0)`\n  hint: add a header row such as `P0 | P1 ;` and one row per instruction",
    ),
    (
        "X86_64 SB
{ }
 P0          | P1          ;
 movq $0x100000000,(x) | movl $1,(y) ;
exists (0:rax=0)
",
        "bad.litmus:4:7: immediate does not fit a 64-bit operand: `$0x100000000`\n  hint: 64-bit memory operands take sign-extended 32-bit immediates; move larger values through a register",
    ),
];

#[test]
fn good_test_parses() {
    let t = parse("sb.litmus", GOOD).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.threads.len(), 2);
}

#[test]
fn broken_tests_report_position_text_and_hint() {
    let mut failures = Vec::new();
    for (i, (text, expected)) in CASES.iter().enumerate() {
        match parse("bad.litmus", text) {
            Ok(_) => failures.push(format!("case {i}: parsed, expected\n{expected}")),
            Err(e) if e.to_string() == *expected => {}
            Err(e) => failures.push(format!("case {i}:\n got: {e}\nwant: {expected}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
