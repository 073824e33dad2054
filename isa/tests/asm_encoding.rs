//! Encoding choices of the GNU Intel dialect, checked without GNU `as`.
//!
//! Expected bytes come from the Intel SDM opcode tables and GNU `as` 2.40
//! output; `gas_diff.rs` checks many more forms when binutils is installed.

use isa::asm::assemble;

fn text_section(src: &str) -> Vec<u8> {
    let program = assemble(src).unwrap_or_else(|error| panic!("{src:?}: {error}"));
    let text = program.sections.into_iter().find(|s| s.name == ".text");
    text.map(|s| s.bytes).unwrap_or_default()
}

fn text(src: &str) -> Vec<u8> {
    let program = assemble(src).unwrap_or_else(|error| panic!("{src:?}: {error}"));
    program
        .sections
        .into_iter()
        .next()
        .map(|s| s.bytes)
        .unwrap_or_default()
}

#[test]
fn immediates_take_the_shortest_form() {
    assert_eq!(text("mov eax, 1"), [0xb8, 1, 0, 0, 0]);
    assert_eq!(text("mov rax, 1"), [0x48, 0xc7, 0xc0, 1, 0, 0, 0]);
    assert_eq!(
        text("mov rax, 0x100000000"),
        [0x48, 0xb8, 0, 0, 0, 0, 1, 0, 0, 0]
    );
    assert_eq!(text("movabs rax, 1"), [0x48, 0xb8, 1, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(text("add eax, 1"), [0x83, 0xc0, 0x01]);
    assert_eq!(text("add eax, 0x1000"), [0x05, 0x00, 0x10, 0x00, 0x00]);
    assert_eq!(text("add ax, 1"), [0x66, 0x83, 0xc0, 0x01]);
    assert_eq!(text("shl eax, 1"), [0xd1, 0xe0]);
    assert_eq!(text("imul eax, 5"), [0x6b, 0xc0, 0x05]);
    assert_eq!(text("push 0x1000"), [0x68, 0x00, 0x10, 0x00, 0x00]);
}

#[test]
fn gnu_spellings() {
    assert_eq!(text("int 3"), [0xcc]);
    assert_eq!(text("xchg eax, eax"), [0x87, 0xc0]);
    assert_eq!(text("xchg eax, ebx"), [0x93]);
    assert_eq!(text("test ecx, [rax]"), [0x85, 0x08]);
    assert_eq!(text("lea rax, [rax + rsp*1]"), [0x48, 0x8d, 0x04, 0x04]);
    assert_eq!(text("sysret"), [0x0f, 0x07]);
    assert_eq!(text("sysexit"), [0x0f, 0x35]);
    assert_eq!(text("jnae 0f\n0:"), [0x72, 0x00]);
    assert_eq!(text("cmovnz eax, ecx"), [0x0f, 0x45, 0xc1]);
    assert_eq!(text("setpo al"), [0x0f, 0x9b, 0xc0]);
    assert_eq!(
        text("LOCK XADD QWORD PTR [RDI], RAX"),
        [0xf0, 0x48, 0x0f, 0xc1, 0x07]
    );
}

#[test]
fn a_bare_label_operand_is_memory_and_offset_is_its_address() {
    let src = "mov eax, value\nmov eax, offset value\n.data\nvalue: .long 0\n";
    let expected = [
        0x8b, 0x04, 0x25, 0x00, 0x00, 0x60, 0x00, 0xb8, 0x00, 0x00, 0x60, 0x00,
    ];
    assert_eq!(text(src), expected);
}

#[test]
fn memory_addressing_forms() {
    assert_eq!(text("mov rax, [rbp]"), [0x48, 0x8b, 0x45, 0x00]);
    assert_eq!(text("mov rax, [rsp]"), [0x48, 0x8b, 0x04, 0x24]);
    assert_eq!(text("mov rax, [r12+8]"), [0x49, 0x8b, 0x44, 0x24, 0x08]);
    assert_eq!(
        text("mov eax, [rbx+rcx*4+0x100]"),
        [0x8b, 0x84, 0x8b, 0x00, 0x01, 0x00, 0x00]
    );
    assert_eq!(text("mov eax, [rcx*8]"), [0x8b, 0x04, 0xcd, 0, 0, 0, 0]);
    assert_eq!(
        text("mov eax, fs:[0x28]"),
        [0x64, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0]
    );
    assert_eq!(
        text("nop dword ptr [rax+rax*1+0x0]"),
        [0x0f, 0x1f, 0x04, 0x00]
    );
    assert_eq!(text("mov eax, [ebx]"), [0x67, 0x8b, 0x03]);
}

#[test]
fn a_length_computed_from_labels_is_an_immediate() {
    // `len = . - msg` is a difference of addresses: GNU reads `len` as a number
    // (once defined; a name defined later reads as a memory operand).
    let src = ".data\nmsg: .ascii \"hello\"\nlen = . - msg\n.text\nmov edx, len\n";
    assert_eq!(text_section(src), [0xba, 0x05, 0x00, 0x00, 0x00]);
}
