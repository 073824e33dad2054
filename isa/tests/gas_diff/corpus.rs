//! The instruction-form corpus of `gas_diff.rs`: every supported mnemonic over
//! register, memory and immediate operands of each size.

const CONDITIONS: [&str; 30] = [
    "o", "no", "b", "c", "nae", "nb", "nc", "ae", "e", "z", "ne", "nz", "be", "na", "a", "nbe",
    "s", "ns", "p", "pe", "np", "po", "l", "nge", "ge", "nl", "le", "ng", "g", "nle",
];
const R64: [&str; 16] = [
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
    "r14", "r15",
];
const R32: [&str; 16] = [
    "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d",
    "r13d", "r14d", "r15d",
];
const R16: [&str; 16] = [
    "ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w",
    "r14w", "r15w",
];
const R8: [&str; 16] = [
    "al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b",
    "r13b", "r14b", "r15b",
];
const HIGH_BYTES: [&str; 4] = ["ah", "ch", "dh", "bh"];
const ADDRESSES: [&str; 18] = [
    "[rax]",
    "[rbp]",
    "[rsp]",
    "[r12]",
    "[r13]",
    "[rax+8]",
    "[rbx-8]",
    "[rcx+0x80]",
    "[rdx-0x81]",
    "[rbx+rcx*4]",
    "[rbx+rcx*8+0x10]",
    "[r8+r9*2-0x1000]",
    "[rsp+rax*1+4]",
    "[rcx*8+0x100]",
    "[rbp+r15*4]",
    "[0x1000]",
    "[rip+corpus_data]",
    "[corpus_data+8]",
];

/// One size: its registers, `ptr` keyword, an imm8 and a full-width immediate.
struct Width {
    regs: &'static [&'static str],
    ptr: &'static str,
    big: &'static str,
}

const WIDTHS: [Width; 4] = [
    Width {
        regs: &R8,
        ptr: "byte ptr",
        big: "0x7f",
    },
    Width {
        regs: &R16,
        ptr: "word ptr",
        big: "0x1234",
    },
    Width {
        regs: &R32,
        ptr: "dword ptr",
        big: "0x12345678",
    },
    Width {
        regs: &R64,
        ptr: "qword ptr",
        big: "-0x12345678",
    },
];

/// The `i`-th of a rotating pick of register pairs.
fn pair(regs: &'static [&'static str], i: usize) -> (&'static str, &'static str) {
    (regs[i % regs.len()], regs[(i * 5 + 3) % regs.len()])
}

/// Pairs in which every register appears as first and as second operand.
fn pairs(regs: &'static [&'static str]) -> impl Iterator<Item = (&'static str, &'static str)> {
    (0..regs.len()).map(move |i| pair(regs, i))
}

fn address(i: usize) -> &'static str {
    ADDRESSES[i % ADDRESSES.len()]
}

fn alu_forms(out: &mut Vec<String>) {
    for (m, mnemonic) in ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"]
        .into_iter()
        .enumerate()
    {
        for (w, width) in WIDTHS.iter().enumerate() {
            let (a, b) = pair(width.regs, m * 3 + w);
            let mem = address(m * 4 + w);
            out.push(format!("{mnemonic} {a}, {b}"));
            out.push(format!(
                "{mnemonic} {a}, {}",
                width.ptr.to_string() + " " + mem
            ));
            out.push(format!("{mnemonic} {mem}, {b}"));
            out.push(format!("{mnemonic} {a}, 5"));
            out.push(format!("{mnemonic} {a}, -3"));
            out.push(format!("{mnemonic} {a}, {}", width.big));
            out.push(format!("{mnemonic} {}, {}", width.regs[0], width.big));
            out.push(format!("{mnemonic} {}, 1", width.regs[0]));
            out.push(format!("{mnemonic} {} {mem}, 7", width.ptr));
            out.push(format!("{mnemonic} {} {mem}, {}", width.ptr, width.big));
        }
    }
    out.push("add eax, 0xffffffff".into());
    out.push("and ax, 0xffff".into());
    out.push("and rax, -1".into());
    out.push("xor eax, eax".into());
}

fn unary_and_shift_forms(out: &mut Vec<String>) {
    for (m, mnemonic) in ["inc", "dec", "neg", "not", "mul", "div", "idiv"]
        .into_iter()
        .enumerate()
    {
        for (w, width) in WIDTHS.iter().enumerate() {
            out.push(format!("{mnemonic} {}", width.regs[(m * 4 + w * 3) % 16]));
            out.push(format!("{mnemonic} {} {}", width.ptr, address(m + w * 5)));
        }
    }
    for (m, mnemonic) in ["shl", "shr", "sar", "sal", "rol", "ror"]
        .into_iter()
        .enumerate()
    {
        for (w, width) in WIDTHS.iter().enumerate() {
            let reg = width.regs[(m * 3 + w * 5 + 1) % 16];
            let mem = format!("{} {}", width.ptr, address(m * 2 + w));
            for count in ["1", "cl", "4"] {
                out.push(format!("{mnemonic} {reg}, {count}"));
                out.push(format!("{mnemonic} {mem}, {count}"));
            }
        }
    }
    for (w, width) in WIDTHS.iter().enumerate().skip(1) {
        let (a, b) = pair(width.regs, w * 2);
        out.push(format!("imul {a}"));
        out.push(format!("imul {} {}", width.ptr, address(w)));
        out.push(format!("imul {a}, {b}"));
        out.push(format!("imul {a}, {} {}", width.ptr, address(w + 3)));
        out.push(format!("imul {a}, {b}, 12"));
        out.push(format!("imul {a}, {b}, 0x1000"));
        out.push(format!("imul {a}, {} {}, -7", width.ptr, address(w + 6)));
        out.push(format!("imul {a}, 9"));
    }
    out.push("imul bl".into());
    for mnemonic in ["bt", "bts", "btr", "btc"] {
        out.push(format!("{mnemonic} eax, ecx"));
        out.push(format!("{mnemonic} qword ptr [rax], r9"));
        out.push(format!("{mnemonic} r10, 33"));
    }
}

fn mov_forms(out: &mut Vec<String>) {
    for (w, width) in WIDTHS.iter().enumerate() {
        for (a, b) in pairs(width.regs) {
            out.push(format!("mov {a}, {b}"));
        }
        for i in 0..ADDRESSES.len() {
            let reg = width.regs[(i + w) % 16];
            out.push(format!("mov {reg}, {} {}", width.ptr, address(i)));
            out.push(format!("mov {}, {reg}", address(i + 7)));
        }
        for reg in width.regs.iter().step_by(3) {
            out.push(format!("mov {reg}, 1"));
            out.push(format!("mov {reg}, {}", width.big));
        }
        out.push(format!("mov {} {}, 0x42", width.ptr, address(w * 3)));
    }
    for high in HIGH_BYTES {
        out.push(format!("mov {high}, al"));
        out.push(format!("mov bl, {high}"));
        out.push(format!("mov {high}, 0x12"));
        out.push(format!("add {high}, byte ptr [rcx]"));
    }
    for imm in [
        "0",
        "-1",
        "0x7fffffff",
        "0x80000000",
        "0xffffffff",
        "0x123456789abcdef0",
        "0xffffffffffffffff",
    ] {
        out.push(format!("mov rax, {imm}"));
        out.push(format!("mov r11, {imm}"));
        out.push(format!("movabs rcx, {imm}"));
    }
    out.push("mov eax, 0xffffffff".into());
    out.push("mov eax, -1".into());
    for reg in ["al", "ax", "eax", "rax"] {
        out.push(format!("movabs {reg}, [0x1122334455667788]"));
        out.push(format!("movabs [0x1122334455667788], {reg}"));
    }
    out.push("mov rax, offset corpus_data".into());
    out.push("mov esi, offset corpus_data+16".into());
    out.push("mov rdx, qword ptr fs:[0x28]".into());
    out.push("mov eax, gs:[rbx]".into());
    for (dest, source) in [
        ("ecx", "bl"),
        ("r9d", "sil"),
        ("rax", "r10b"),
        ("ax", "bh"),
        ("edx", "cx"),
        ("r15", "r8w"),
    ] {
        out.push(format!("movzx {dest}, {source}"));
        out.push(format!("movsx {dest}, {source}"));
    }
    for (dest, ptr) in [
        ("ecx", "byte ptr"),
        ("r9", "word ptr"),
        ("ax", "byte ptr"),
        ("rsi", "byte ptr"),
    ] {
        out.push(format!("movzx {dest}, {ptr} [rdi+8]"));
        out.push(format!("movsx {dest}, {ptr} [r12+rax*2]"));
    }
    for (dest, source) in [
        ("rax", "ebx"),
        ("r12", "r13d"),
        ("rdi", "dword ptr [rsp+4]"),
    ] {
        out.push(format!("movsxd {dest}, {source}"));
    }
    for (i, reg) in ["rax", "esi", "r13", "r9d"].into_iter().enumerate() {
        for j in 0..4 {
            out.push(format!("lea {reg}, {}", address(i * 4 + j + 1)));
        }
    }
    out.push("lea rax, [rip+corpus_data]".into());
}

fn control_and_stack_forms(out: &mut Vec<String>) {
    for reg in R64.iter().step_by(3) {
        out.push(format!("push {reg}"));
        out.push(format!("pop {reg}"));
        out.push(format!("call {reg}"));
        out.push(format!("jmp {reg}"));
    }
    for mem in [
        "[rax]",
        "qword ptr [rsp+8]",
        "[r12+rbx*8]",
        "qword ptr [rip+corpus_data]",
    ] {
        for mnemonic in ["push", "pop", "call", "jmp"] {
            out.push(format!("{mnemonic} {mem}"));
        }
    }
    for imm in ["1", "-1", "0x80", "0x12345678"] {
        out.push(format!("push {imm}"));
    }
    out.extend(
        [
            "push word ptr [rax]",
            "pop word ptr [rbx]",
            "push fs",
            "pop gs",
            "ret",
            "ret 8",
            "leave",
        ]
        .map(String::from),
    );
    for condition in CONDITIONS {
        out.push(format!("set{condition} al"));
        out.push(format!("set{condition} byte ptr [rbx+1]"));
        out.push(format!("cmov{condition} eax, ecx"));
        out.push(format!("cmov{condition} r8, qword ptr [rdx]"));
    }
    out.push("setz sil".into());
    out.push("cmovz r15w, r14w".into());
}

fn atomic_and_system_forms(out: &mut Vec<String>) {
    for (w, width) in WIDTHS.iter().enumerate() {
        let (a, b) = pair(width.regs, w + 6);
        for mnemonic in ["xchg", "xadd", "cmpxchg"] {
            out.push(format!("{mnemonic} {a}, {b}"));
            out.push(format!("{mnemonic} {}, {b}", address(w + 2)));
            out.push(format!(
                "lock {mnemonic} {} {}, {a}",
                width.ptr,
                address(w + 9)
            ));
        }
        out.push(format!("xchg {}, {a}", width.regs[0]));
        out.push(format!("xchg {a}, {}", width.regs[0]));
        out.push(format!("xchg {a}, {}", address(w)));
        for mnemonic in ["add", "or", "and", "sub", "xor", "adc", "sbb"] {
            out.push(format!(
                "lock {mnemonic} {} {}, {b}",
                width.ptr,
                address(w + 1)
            ));
            out.push(format!(
                "lock {mnemonic} {} {}, 1",
                width.ptr,
                address(w + 4)
            ));
        }
        for mnemonic in ["inc", "dec", "neg", "not"] {
            out.push(format!("lock {mnemonic} {} {}", width.ptr, address(w + 11)));
        }
    }
    out.extend(
        [
            "cmpxchg8b qword ptr [rdi]",
            "lock cmpxchg16b xmmword ptr [rdi]",
            "xchg ebx, ecx",
            "xchg rax, r8",
        ]
        .map(String::from),
    );
    out.extend(
        [
            "nop",
            "nop dword ptr [rax]",
            "nop dword ptr [rax+0x0]",
            "nop dword ptr [rax+rax*1+0x0]",
            "nop word ptr [rax+rax*1+0x0]",
            "nop dword ptr [rax+0x12345678]",
            "nop word ptr [rax+rax*1+0x12345678]",
            "nop eax",
            "pause",
            "mfence",
            "lfence",
            "sfence",
            "clflush byte ptr [rax]",
            "clflush [r11+8]",
            "cpuid",
            "serialize",
            "syscall",
            "sysretq",
            "sysretd",
            "sysenter",
            "sysexitq",
            "sysexitd",
            "iretq",
            "iret",
            "int 0x80",
            "int 3",
            "int3",
            "hlt",
            "ud2",
            "swapgs",
            "wrmsr",
            "rdmsr",
            "rdtsc",
            "rdtscp",
            "invlpg [rax]",
            "invlpg byte ptr [rbx+rcx*8]",
            "wbinvd",
            "invd",
            "lgdt [rax]",
            "lidt [rsp+8]",
            "lldt ax",
            "mov ds, ax",
            "mov ds, eax",
            "mov ax, ds",
            "mov eax, ds",
            "mov rax, ds",
            "mov r9, fs",
            "mov byte ptr [rip+corpus_data], 0x90",
            "cmp dword ptr [rip+corpus_data+4], 1",
            "mov qword ptr [rip+corpus_data+8], -2",
            "mov word ptr [rax], ds",
            "mov ds, word ptr [rax]",
            "verr ax",
            "lmsw ax",
            "smsw ax",
            "str ax",
            "lldt word ptr [rax]",
            "ltr cx",
            "ltr word ptr [rdx]",
            "cli",
            "sti",
            "clc",
            "stc",
            "cld",
            "std",
            "cdq",
            "cqo",
            "cdqe",
            "cwde",
            "pushfq",
            "popfq",
            "pushf",
            "popf",
            "xgetbv",
            "bswap eax",
            "lea eax, [ebx+ecx*4+8]",
            "mov eax, dword ptr [r8d]",
            "test ecx, [rax]",
            "enter 16, 0",
            "in al, dx",
            "in eax, 0x60",
            "out dx, al",
            "out 0x80, al",
            "bsf eax, ecx",
            "bsr r8, qword ptr [rax]",
            "popcnt eax, ecx",
            "lzcnt rax, rbx",
            "tzcnt ecx, dword ptr [rsi]",
            "crc32 eax, byte ptr [rdi]",
            "movq xmm0, rax",
            "movq rcx, xmm15",
            "movd xmm1, dword ptr [rbx]",
            "movdqa xmm1, xmmword ptr [rax]",
            "movdqu xmmword ptr [rsp+16], xmm9",
            "movaps xmm2, xmm3",
            "pxor xmm4, xmm4",
            "monitor",
            "mwait",
            "clwb byte ptr [rax]",
            "clflushopt byte ptr [rdx]",
            "rdrand eax",
            "rdseed rcx",
            "rdpid rax",
            "prefetcht0 byte ptr [rax]",
            "prefetchnta byte ptr [rbx+8]",
            "invpcid rax, xmmword ptr [rbx]",
            "xsave [rax]",
            "xrstor [rcx]",
            "wrfsbase rax",
            "rdgsbase r11",
            "stac",
            "clac",
            "vmcall",
            "rdpmc",
            "cmc",
            "sahf",
            "lahf",
            "xlatb",
            "movsb",
            "movsq",
            "rep movsb",
            "rep movsd",
            "rep stosq",
            "stosb",
            "lodsd",
            "repne scasb",
            "repe cmpsq",
            "outsb",
            "insd",
            "lea rax, [rbx+rsp]",
            "bswap r9",
        ]
        .map(String::from),
    );
    for cr in ["cr0", "cr2", "cr3", "cr4", "cr8"] {
        for reg in ["rax", "r10"] {
            out.push(format!("mov {cr}, {reg}"));
            out.push(format!("mov {reg}, {cr}"));
        }
    }
    for dr in ["dr0", "dr1", "dr2", "dr3", "dr6", "dr7"] {
        out.push(format!("mov {dr}, rcx"));
        out.push(format!("mov r9, {dr}"));
    }
}

/// Every instruction form of the corpus.
pub fn corpus() -> Vec<String> {
    let mut forms = Vec::new();
    alu_forms(&mut forms);
    unary_and_shift_forms(&mut forms);
    mov_forms(&mut forms);
    control_and_stack_forms(&mut forms);
    atomic_and_system_forms(&mut forms);
    forms
}

/// The corpus as a source text, one form per 16-byte slot; returns the text
/// and the 1-based line of each form.
pub fn corpus_source(forms: &[String]) -> (String, Vec<usize>) {
    let mut text = String::from(".intel_syntax noprefix\n.text\n");
    let mut lines = Vec::new();
    for form in forms {
        text.push_str(".p2align 4\n");
        text.push_str(form);
        text.push('\n');
        lines.push(text.lines().count());
    }
    text.push_str(".data\ncorpus_data:\n.quad 0, 0, 0\n");
    (text, lines)
}
