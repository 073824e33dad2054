//! The parser never panics: randomly edited litmus files either parse or produce an
//! error that points inside the file; whatever parses translates into assembly the
//! assembler accepts.

use proptest::prelude::*;
use scenarios::litmus::{LitmusProgram, parse};

/// Two small tests covering both dialects, init items, `locations` and nested props.
const SEEDS: [&str; 2] = [
    "X86 SB+xchg
\"Fre PodWR\" (* comment *)
Com=Fr Fr
{ x=0; y=0; 0:EBX=1; int z; }
 P0            | P1          ;
 MOV [x],$1    | MOV [y],$1  ;
 XCHG [z],EBX  | LOCK INC [z] ;
 MOV EAX,[y]   | MOV EAX,[x] ;
locations [z;]
exists (0:EAX=0 /\\ ~(1:EAX=1 \\/ [x]=2))
",
    "X86_64 CAS
{ uint64_t x; 0:rax=0; 0:rcx=1; 1:RBX=0x10; }
 P0                     | P1             ;
 lock cmpxchgl (x),%ecx | movq %rbx,(y)  ;
 mfence                 | xchgl %eax,(x) ;
forall ([x]=1 \\/ 1:rax=0)
",
];

/// Characters that matter to the litmus syntax, plus some that do not.
const ALPHABET: &str = "{}[]()|;:=$%,~/\\\"*\nPXE0123 abxyLOCKmovl-é";

fn edit(base: &str, edits: &[(usize, usize, usize)]) -> String {
    let mut chars: Vec<char> = base.chars().collect();
    let alphabet: Vec<char> = ALPHABET.chars().collect();
    for &(op, pos, c) in edits {
        let pos = pos % (chars.len() + 1);
        match op % 3 {
            0 => chars.insert(pos, alphabet[c % alphabet.len()]),
            1 if pos < chars.len() => {
                chars.remove(pos);
            }
            _ if pos < chars.len() => chars[pos] = alphabet[c % alphabet.len()],
            _ => {}
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #[test]
    fn edited_files_parse_or_fail_cleanly(
        which in 0..SEEDS.len(),
        edits in prop::collection::vec((0..3usize, 0..400usize, 0..64usize), 1..6),
    ) {
        let text = edit(SEEDS[which], &edits);
        match parse("fuzz.litmus", &text) {
            Ok(test) => {
                // Whatever parses also translates to code the assembler accepts.
                let program = LitmusProgram::new(&test);
                prop_assert_eq!(program.threads.len(), test.threads.len());
                prop_assert!(program.image().is_ok(), "{:?}", program.image().err());
            }
            Err(e) => {
                let lines = text.split('\n').count();
                prop_assert!(e.line >= 1 && e.line <= lines, "{e} (file has {lines} lines)");
                prop_assert!(e.col >= 1 && !e.hint.is_empty(), "{e}");
            }
        }
    }
}

#[test]
fn seeds_parse() {
    for s in SEEDS {
        parse("seed.litmus", s).unwrap_or_else(|e| panic!("{e}"));
    }
}
