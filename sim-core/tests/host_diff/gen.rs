//! Random user-mode snippets as Intel-syntax text: straight-line code plus forward
//! branches over single instructions.
//!
//! Each snippet instruction is drawn from one `u64` seed, so proptest shrinks a
//! failing snippet by dropping instructions. Memory operands always point into the
//! scratch buffer: the generator emits `mov`s that set the base and index registers
//! just before the instruction that uses them.
//!
//! The generator keeps its own account of which status flags the SDM leaves
//! undefined (written from the SDM "Flags Affected" sections, independently of
//! `isa::semantics::undefined_flags`), and before any instruction that reads flags
//! (adc, sbb, setcc, cmovcc) it makes sure they are defined by inserting a `cmp`.

use isa::flags::{Cond, Flags};

/// Fixed address of the scratch buffer, in both the host process and the interpreter.
/// Below 2 GiB so 32-bit `mov`s can set base registers, and far from where Linux
/// places a PIE binary, its heap and its mmaps.
pub const SCRATCH: u64 = 0x4000_0000;
/// Scratch buffer size: every generated address stays within it.
pub const SCRATCH_LEN: usize = 0x2000;

/// A generated snippet.
pub struct Snippet {
    /// One instruction or label per line.
    pub lines: Vec<String>,
    /// Status flags undefined at the end, by the generator's own SDM bookkeeping.
    pub undefined: Flags,
}

/// The snippet for `seeds`, one instruction (plus address setup) per seed.
pub fn snippet(seeds: &[u64]) -> Snippet {
    let mut g = Gen {
        rng: Rng(0),
        lines: Vec::new(),
        undefined: Flags::empty(),
        labels: 0,
    };
    for &seed in seeds {
        g.rng = Rng(seed);
        g.one();
    }
    Snippet {
        lines: g.lines,
        undefined: g.undefined,
    }
}

/// SplitMix64: a tiny deterministic source of choices within one instruction.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Register names by encoding number and width (1, 2, 4, 8 bytes).
const NAMES: [[&str; 4]; 16] = [
    ["al", "ax", "eax", "rax"],
    ["cl", "cx", "ecx", "rcx"],
    ["dl", "dx", "edx", "rdx"],
    ["bl", "bx", "ebx", "rbx"],
    ["spl", "sp", "esp", "rsp"],
    ["bpl", "bp", "ebp", "rbp"],
    ["sil", "si", "esi", "rsi"],
    ["dil", "di", "edi", "rdi"],
    ["r8b", "r8w", "r8d", "r8"],
    ["r9b", "r9w", "r9d", "r9"],
    ["r10b", "r10w", "r10d", "r10"],
    ["r11b", "r11w", "r11d", "r11"],
    ["r12b", "r12w", "r12d", "r12"],
    ["r13b", "r13w", "r13d", "r13"],
    ["r14b", "r14w", "r14d", "r14"],
    ["r15b", "r15w", "r15d", "r15"],
];
/// Byte registers encodable without REX, including the high-byte ones.
const LEGACY8: [&str; 8] = ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"];
const WIDTHS: [u32; 4] = [1, 2, 4, 8];
const CC: [&str; 16] = [
    "o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g",
];

fn width_index(w: u32) -> usize {
    w.trailing_zeros() as usize
}

fn ptr(w: u32) -> &'static str {
    ["byte", "word", "dword", "qword"][width_index(w)]
}

/// What an instruction does to the status flags, per its SDM "Flags Affected".
#[derive(Copy, Clone)]
enum FlagFx {
    /// Writes all six with defined values (add, sub, cmp, adc, sbb, neg, xadd, cmpxchg).
    All,
    /// OF = CF = 0, SF ZF PF defined, AF undefined (and, or, xor, test).
    Logic,
    /// CF unchanged, the rest defined (inc, dec).
    IncDec,
    /// CF OF defined, SF ZF AF PF undefined (imul).
    Imul,
    /// A shift of a `bits`-bit operand by `count` (`None`: by CL, any of 0..=mask).
    Shift {
        sar: bool,
        bits: u32,
        count: Option<u32>,
    },
    /// Leaves the flags alone.
    Nothing,
}

struct Gen {
    rng: Rng,
    lines: Vec<String>,
    undefined: Flags,
    /// Labels used so far (for forward branches).
    labels: u32,
}

impl Gen {
    fn emit(&mut self, line: String, fx: FlagFx) {
        self.lines.push(line);
        let u = &mut self.undefined;
        match fx {
            FlagFx::All => *u = Flags::empty(),
            FlagFx::Logic => *u = Flags::AF,
            FlagFx::IncDec => *u &= Flags::CF,
            FlagFx::Imul => *u = Flags::SF | Flags::ZF | Flags::AF | Flags::PF,
            FlagFx::Shift { sar, bits, count } => {
                // SDM SAL/SAR/SHL/SHR: a zero count affects no flags; otherwise AF is
                // undefined, OF is undefined unless the count is 1, and (SHL/SHR) CF is
                // undefined when the count is at least the operand width.
                let mask = if bits == 64 { 63 } else { 31 };
                let (min, max) = count.map_or((0, mask), |c| (c & mask, c & mask));
                let mut undefined = Flags::AF;
                if max > 1 {
                    undefined |= Flags::OF;
                }
                if !sar && max >= bits {
                    undefined |= Flags::CF;
                }
                match (min, max) {
                    (_, 0) => {}
                    (0, _) => *u |= undefined,
                    _ => *u = undefined,
                }
            }
            FlagFx::Nothing => {}
        }
    }

    /// Make the flags `reads` defined before a consumer, with a `cmp` if needed.
    fn need(&mut self, reads: Flags) {
        if self.undefined.intersects(reads) {
            let w = self.rng.pick(&WIDTHS);
            let (a, b) = (self.reg(w), self.reg(w));
            self.emit(format!("cmp {a}, {b}"), FlagFx::All);
        }
    }

    /// A random register other than RSP at width `w` (no high-byte registers).
    fn reg(&mut self, w: u32) -> &'static str {
        let n = loop {
            let n = self.rng.below(16) as usize;
            if n != 4 {
                break n;
            }
        };
        NAMES[n][width_index(w)]
    }

    /// Two registers at width `w` that can share an instruction: byte pairs are
    /// sometimes drawn from the legacy set so `ah`..`bh` appear.
    fn reg_pair(&mut self, w: u32) -> (&'static str, &'static str) {
        if w == 1 && self.rng.chance(30) {
            (self.rng.pick(&LEGACY8), self.rng.pick(&LEGACY8))
        } else {
            (self.reg(w), self.reg(w))
        }
    }

    /// An immediate that fits width `w` (sign-extended imm32 for 64-bit), biased
    /// towards boundary values.
    fn imm(&mut self, w: u32) -> i64 {
        let bits = w.min(4) * 8;
        let (min, max) = (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1);
        match self.rng.below(6) {
            0 => self.rng.pick(&[0, 1, -1, 0x0f, 0x10]),
            1 => min,
            2 => max,
            3 => self.rng.pick(&[-128, 127, 0x80, 0xff]).clamp(min, max),
            _ => min + self.rng.below((max - min) as u64 + 1) as i64,
        }
    }

    /// A `size ptr [base+index*scale+disp]` operand inside the scratch buffer; the
    /// base and index registers are set up by `mov`s emitted now.
    fn mem(&mut self, w: u32) -> String {
        let base = self.reg(8);
        let off = 0x100 + self.rng.below(0x1000);
        self.emit(
            format!("mov {}, {:#x}", to32(base), SCRATCH + off),
            FlagFx::Nothing,
        );
        let disp = self.rng.below(256) as i64 - 128;
        let index = match self.rng.below(3) {
            0 => String::new(),
            _ => {
                let index = loop {
                    let r = self.reg(8);
                    if r != base {
                        break r;
                    }
                };
                let value = self.rng.below(64);
                self.emit(format!("mov {}, {value}", to32(index)), FlagFx::Nothing);
                format!("+{index}*{}", self.rng.pick(&[1, 2, 4, 8]))
            }
        };
        format!("{} ptr [{base}{index}{disp:+}]", ptr(w))
    }

    /// One instruction (with any setup it needs).
    fn one(&mut self) {
        match self.rng.below(100) {
            0..=24 => self.alu(),
            25..=29 => self.test(),
            30..=37 => self.unary(),
            38..=47 => self.shift(),
            48..=53 => self.imul(),
            54..=59 => self.extend(),
            60..=67 => self.mov(),
            68..=71 => self.lea(),
            72..=76 => self.setcc(),
            77..=81 => self.cmov(),
            82..=89 => self.atomic(),
            90..=92 => self.stack(),
            93..=95 => self.skip(),
            _ => {
                let op = self
                    .rng
                    .pick(&["nop", "pause", "mfence", "lfence", "sfence"]);
                self.emit(op.to_string(), FlagFx::Nothing);
            }
        }
    }

    fn alu(&mut self) {
        let op = self
            .rng
            .pick(&["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"]);
        if matches!(op, "adc" | "sbb") {
            self.need(Flags::CF);
        }
        let fx = if matches!(op, "and" | "or" | "xor") {
            FlagFx::Logic
        } else {
            FlagFx::All
        };
        let w = self.rng.pick(&WIDTHS);
        let line = match self.rng.below(5) {
            0 => {
                let (a, b) = self.reg_pair(w);
                format!("{op} {a}, {b}")
            }
            1 => format!("{op} {}, {}", self.reg_pair(w).0, self.imm(w)),
            2 => {
                let m = self.mem(w);
                format!("{op} {}, {m}", self.reg(w))
            }
            3 => {
                let m = self.mem(w);
                format!("{op} {m}, {}", self.reg(w))
            }
            _ => {
                let m = self.mem(w);
                format!("{op} {m}, {}", self.imm(w))
            }
        };
        self.emit(line, fx);
    }

    fn test(&mut self) {
        let w = self.rng.pick(&WIDTHS);
        let line = match self.rng.below(3) {
            0 => {
                let (a, b) = self.reg_pair(w);
                format!("test {a}, {b}")
            }
            1 => format!("test {}, {}", self.reg(w), self.imm(w)),
            _ => {
                let m = self.mem(w);
                format!("test {m}, {}", self.reg(w))
            }
        };
        self.emit(line, FlagFx::Logic);
    }

    /// A register or memory operand at width `w`.
    fn rm(&mut self, w: u32) -> String {
        if self.rng.chance(60) {
            self.reg_pair(w).0.to_string()
        } else {
            self.mem(w)
        }
    }

    fn unary(&mut self) {
        let op = self.rng.pick(&["inc", "dec", "neg", "not"]);
        let w = self.rng.pick(&WIDTHS);
        let fx = match op {
            "inc" | "dec" => FlagFx::IncDec,
            "neg" => FlagFx::All,
            _ => FlagFx::Nothing,
        };
        let dst = self.rm(w);
        self.emit(format!("{op} {dst}"), fx);
    }

    fn shift(&mut self) {
        let op = self.rng.pick(&["shl", "shr", "sar"]);
        let w = self.rng.pick(&WIDTHS);
        let dst = self.rm(w);
        let (count, text) = match self.rng.below(3) {
            0 => (None, "cl".to_string()),
            1 => (Some(1), "1".to_string()),
            _ => {
                let c = self
                    .rng
                    .pick(&[0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255]);
                let c = if self.rng.chance(50) {
                    c
                } else {
                    self.rng.below(256) as u32
                };
                (Some(c), c.to_string())
            }
        };
        self.emit(
            format!("{op} {dst}, {text}"),
            FlagFx::Shift {
                sar: op == "sar",
                bits: w * 8,
                count,
            },
        );
    }

    fn imul(&mut self) {
        let w = self.rng.pick(&[2, 4, 8]);
        let dst = self.reg(w);
        let src = self.rm(w);
        let line = if self.rng.chance(50) {
            format!("imul {dst}, {src}")
        } else {
            format!("imul {dst}, {src}, {}", self.imm(w))
        };
        self.emit(line, FlagFx::Imul);
    }

    fn extend(&mut self) {
        let (op, from, to) = self.rng.pick(&[
            ("movzx", 1, 2),
            ("movzx", 1, 4),
            ("movzx", 1, 8),
            ("movzx", 2, 4),
            ("movzx", 2, 8),
            ("movsx", 1, 2),
            ("movsx", 1, 4),
            ("movsx", 1, 8),
            ("movsx", 2, 4),
            ("movsx", 2, 8),
            ("movsxd", 4, 8),
        ]);
        let high_byte = from == 1 && to < 8 && self.rng.chance(30);
        let (dst, src) = if high_byte {
            // `ah`..`bh` cannot share an instruction with a REX prefix.
            (
                NAMES[self.rng.below(4) as usize][width_index(to)],
                self.rng.pick(&LEGACY8[4..]).to_string(),
            )
        } else if self.rng.chance(60) {
            (self.reg(to), self.reg(from).to_string())
        } else {
            (self.reg(to), self.mem(from))
        };
        self.emit(format!("{op} {dst}, {src}"), FlagFx::Nothing);
    }

    fn mov(&mut self) {
        let w = self.rng.pick(&WIDTHS);
        let line = match self.rng.below(6) {
            0 => {
                let (a, b) = self.reg_pair(w);
                format!("mov {a}, {b}")
            }
            1 => format!("mov {}, {}", self.reg_pair(w).0, self.imm(w)),
            2 => {
                let m = self.mem(w);
                format!("mov {}, {m}", self.reg(w))
            }
            3 => {
                let m = self.mem(w);
                format!("mov {m}, {}", self.reg(w))
            }
            4 => {
                let m = self.mem(w);
                format!("mov {m}, {}", self.imm(w))
            }
            _ => format!("mov {}, {:#x}", self.reg(8), self.rng.next()),
        };
        self.emit(line, FlagFx::Nothing);
    }

    fn lea(&mut self) {
        let w = self.rng.pick(&[2, 4, 8]);
        let (dst, base, index) = (self.reg(w), self.reg(8), self.reg(8));
        let scale = self.rng.pick(&[1, 2, 4, 8]);
        let disp = self.imm(4);
        self.emit(
            format!("lea {dst}, [{base}+{index}*{scale}{disp:+}]"),
            FlagFx::Nothing,
        );
    }

    fn setcc(&mut self) {
        let cc = self.rng.below(16) as usize;
        self.need(Cond::ALL[cc].reads());
        let dst = self.rm(1);
        self.emit(format!("set{} {dst}", CC[cc]), FlagFx::Nothing);
    }

    fn cmov(&mut self) {
        let cc = self.rng.below(16) as usize;
        self.need(Cond::ALL[cc].reads());
        let w = self.rng.pick(&[2, 4, 8]);
        let dst = self.reg(w);
        let src = self.rm(w);
        self.emit(format!("cmov{} {dst}, {src}", CC[cc]), FlagFx::Nothing);
    }

    /// xchg, xadd, cmpxchg and `lock`ed read-modify-writes.
    fn atomic(&mut self) {
        let w = self.rng.pick(&WIDTHS);
        let lock = if self.rng.chance(50) { "lock " } else { "" };
        let line = match self.rng.below(4) {
            0 => {
                let (a, b) = self.reg_pair(w);
                if self.rng.chance(50) {
                    format!("xchg {a}, {b}")
                } else {
                    let m = self.mem(w);
                    format!("xchg {m}, {}", self.reg(w))
                }
            }
            1 | 2 => {
                let op = if self.rng.chance(50) {
                    "xadd"
                } else {
                    "cmpxchg"
                };
                let (dst, line) = if self.rng.chance(40) {
                    let (a, b) = self.reg_pair(w);
                    (a.to_string(), format!("{op} {a}, {b}"))
                } else {
                    let m = self.mem(w);
                    (m.clone(), format!("{lock}{op} {m}, {}", self.reg(w)))
                };
                // Half the time make the comparison succeed: the accumulator
                // gets the destination's value (unless RAX addresses it).
                if op == "cmpxchg" && !dst.contains("rax") && self.rng.chance(50) {
                    let acc = NAMES[0][width_index(w)];
                    self.emit(format!("mov {acc}, {dst}"), FlagFx::Nothing);
                }
                line
            }
            _ => {
                let op = self
                    .rng
                    .pick(&["add", "sub", "and", "or", "xor", "inc", "dec"]);
                let m = self.mem(w);
                let line = match op {
                    "inc" | "dec" => format!("lock {op} {m}"),
                    _ => format!("lock {op} {m}, {}", self.reg(w)),
                };
                let fx = match op {
                    "inc" | "dec" => FlagFx::IncDec,
                    "and" | "or" | "xor" => FlagFx::Logic,
                    _ => FlagFx::All,
                };
                return self.emit(line, fx);
            }
        };
        let fx = if line.starts_with("xchg") {
            FlagFx::Nothing
        } else {
            FlagFx::All
        };
        self.emit(line, fx);
    }
}

impl Gen {
    /// A balanced push/pop pair: moves a value through the (host's or interpreter's)
    /// stack without leaving RSP changed.
    fn stack(&mut self) {
        let w = if self.rng.chance(20) { 2 } else { 8 };
        let src = match self.rng.below(3) {
            0 if w == 8 => self.imm(4).to_string(),
            1 => self.mem(w),
            _ => self.reg(w).to_string(),
        };
        // Push before setting up the pop's address: it may reuse the push's registers.
        self.emit(format!("push {src}"), FlagFx::Nothing);
        let dst = if self.rng.chance(30) {
            self.mem(w)
        } else {
            self.reg(w).to_string()
        };
        self.emit(format!("pop {dst}"), FlagFx::Nothing);
    }

    /// A forward `jcc`/`jmp` over one flag-neutral instruction, so the flag account
    /// is the same whether or not the branch is taken.
    fn skip(&mut self) {
        let cc = self.rng.below(17) as usize;
        let jump = match CC.get(cc) {
            Some(name) => {
                self.need(Cond::ALL[cc].reads());
                format!("j{name}")
            }
            None => "jmp".to_string(),
        };
        self.labels += 1;
        let label = format!("skip{}", self.labels);
        self.emit(format!("{jump} {label}"), FlagFx::Nothing);
        let w = self.rng.pick(&WIDTHS);
        let line = format!("mov {}, {}", self.reg(w), self.imm(w));
        self.emit(line, FlagFx::Nothing);
        self.emit(format!("{label}:"), FlagFx::Nothing);
    }
}

/// The 32-bit name of a 64-bit register (writing it zero-extends).
fn to32(r64: &str) -> &'static str {
    NAMES
        .iter()
        .find(|n| n[3] == r64)
        .map(|n| n[2])
        .expect("a 64-bit register")
}
