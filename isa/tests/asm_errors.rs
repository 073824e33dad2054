//! Error reporting of `isa::asm::assemble`: position, message and hint for bad input.

use isa::asm::{AsmError, assemble};

fn error_of(src: &str) -> AsmError {
    match assemble(src) {
        Ok(program) => panic!("expected an error for {src:?}, got {program:?}"),
        Err(error) => error,
    }
}

#[test]
fn unknown_mnemonic_suggests_the_nearest_one() {
    let error = error_of("  nop\n  movv eax, 1\n");
    assert_eq!((error.line, error.col, error.len), (2, 3, 4));
    assert_eq!(error.message, "unknown mnemonic `movv`");
    assert_eq!(error.hint.as_deref(), Some("did you mean `mov`?"));
}

#[test]
fn bad_operand_combination_lists_the_forms() {
    let error = error_of("mov eax, cr0");
    assert_eq!((error.line, error.col, error.len), (1, 5, 8));
    assert_eq!(error.message, "`mov` has no form taking (r32, cr0)");
    let hint = error.hint.expect("a list of forms");
    assert!(hint.starts_with("the forms are: "), "{hint}");
    for form in [
        "MOV r/m32, r32",
        "MOV r64, cr",
        "MOV cr, r64",
        "MOV r64, dr",
    ] {
        assert!(hint.contains(form), "{form} missing from {hint}");
    }
}

#[test]
fn undefined_label_suggests_the_nearest_defined_one() {
    let error = error_of("loop_top:\n    dec ecx\n    jnz loop_tp\n");
    assert_eq!((error.line, error.col, error.len), (3, 9, 7));
    assert_eq!(error.message, "undefined symbol `loop_tp`");
    assert_eq!(error.hint.as_deref(), Some("did you mean `loop_top`?"));
}

#[test]
fn base_after_the_first_byte_is_rejected() {
    let error = error_of("nop\n.base 0x1000\n");
    assert_eq!((error.line, error.col), (2, 1));
    assert_eq!(
        error.message,
        "`.base` must come before the first byte of section `.text`"
    );
    assert_eq!(
        error.hint.as_deref(),
        Some("move `.base` right after `.section .text`, before any instruction or data")
    );
}

#[test]
fn named_section_without_base_is_rejected() {
    let error = error_of(".section .kernel\nhlt\n");
    assert_eq!(error.line, 2);
    assert_eq!(error.message, "section `.kernel` has no load address");
}

#[test]
fn duplicate_label_points_at_the_first_definition() {
    let error = error_of("a: nop\nb: nop\na: nop\n");
    assert_eq!((error.line, error.col, error.len), (3, 1, 1));
    assert_eq!(error.message, "duplicate label `a`");
    assert_eq!(
        error.hint.as_deref(),
        Some("`a` is already defined on line 1")
    );
}

#[test]
fn immediate_out_of_range() {
    let error = error_of("mov al, 300");
    assert_eq!((error.col, error.len), (9, 3));
    assert_eq!(error.message, "value 300 is out of range for `mov`");
}

#[test]
fn data_value_out_of_range() {
    let error = error_of(".byte 1, 256");
    assert_eq!(error.message, "value 0x100 does not fit in 1 byte(s)");
}

#[test]
fn ambiguous_memory_size_needs_a_size_keyword() {
    let error = error_of("inc [rax]");
    assert_eq!(error.message, "ambiguous operand size for `inc`");
    assert!(error.hint.expect("a hint").contains("`dword ptr`"));
}

#[test]
fn short_only_branch_out_of_range() {
    let error = error_of("top:\n.skip 200\nloop top\n");
    assert_eq!((error.line, error.col, error.len), (3, 6, 3));
    assert_eq!(
        error.message,
        "branch target is -202 bytes away, out of range"
    );
}

#[test]
fn rip_relative_target_out_of_reach() {
    let error = error_of(
        ".section .k\n.base 0xffffffff80000000\nmov eax, [rip+far]\n.data\nfar: .long 0\n",
    );
    assert_eq!((error.line, error.col), (3, 10));
    assert!(
        error.message.starts_with("`rip`-relative target is"),
        "{}",
        error.message
    );
}

#[test]
fn lock_needs_a_memory_destination() {
    let error = error_of("lock add eax, ebx");
    assert_eq!((error.col, error.len), (1, 4));
    assert!(
        error.message.starts_with("`lock` cannot be used with"),
        "{}",
        error.message
    );
}

#[test]
fn org_cannot_go_backwards() {
    let error = error_of(".skip 16\n.org 8\n");
    assert_eq!(error.line, 2);
    assert_eq!(
        error.message,
        "`.org` cannot move the location counter backwards"
    );
}

#[test]
fn overlapping_sections_are_rejected() {
    let error =
        error_of(".section .a\n.base 0x1000\n.skip 16\n.section .b\n.base 0x1008\n.byte 1\n");
    assert_eq!(error.line, 6);
    assert!(
        error.message.contains("overlaps section `.a`"),
        "{}",
        error.message
    );
}

#[test]
fn display_shows_position_message_and_hint() {
    let error = error_of("jmpp x");
    assert_eq!(
        error.to_string(),
        "1:1: unknown mnemonic `jmpp` (hint: did you mean `jmp`?)"
    );
}

#[test]
fn local_label_references_need_a_definition() {
    let forward = error_of("jmp 3f\n");
    assert_eq!((forward.col, forward.len), (5, 2));
    assert_eq!(forward.message, "undefined symbol `3f`");
    let backward = error_of("nop\njmp 4b\n4: nop\n");
    assert_eq!((backward.line, backward.col, backward.len), (2, 5, 2));
    assert_eq!(backward.message, "no local label `4:` before `4b`");
}

#[test]
fn invalid_scale_points_at_the_scaled_register() {
    let error = error_of("mov eax, [rbx + rax*3]");
    assert_eq!((error.col, error.len), (17, 5));
    assert_eq!(error.message, "invalid scale 3");
    assert_eq!(error.hint.as_deref(), Some("use 1, 2, 4 or 8"));
}

#[test]
fn unknown_directive_suggests_the_nearest_one() {
    let error = error_of(".aling 4");
    assert_eq!((error.col, error.len), (1, 6));
    assert_eq!(error.message, "unknown directive `.aling`");
    assert_eq!(error.hint.as_deref(), Some("did you mean `.align`?"));
}

#[test]
fn condition_code_aliases_are_suggested_too() {
    let error = error_of("jnzz somewhere");
    assert_eq!(error.hint.as_deref(), Some("did you mean `jnz`?"));
}

#[test]
fn a_semicolon_is_a_comment_not_a_separator() {
    let error = error_of("rep; movsb");
    assert_eq!((error.col, error.len), (1, 3));
    assert_eq!(
        error.message,
        "`rep` must be followed by an instruction on the same line"
    );
    assert_eq!(
        error.hint.as_deref(),
        Some(
            "put the instruction after `rep` on this line (`;` starts a comment; it does not separate statements)"
        )
    );
}

#[test]
fn rept_needs_a_matching_endr_and_a_constant_count() {
    let unclosed = error_of("nop\n.rept 3\nnop\n");
    assert_eq!((unclosed.line, unclosed.col, unclosed.len), (2, 1, 5));
    assert_eq!(unclosed.message, "`.rept` without `.endr`");
    let stray = error_of(".endr\n");
    assert_eq!(stray.message, "`.endr` without `.rept`");
    let counted_by_label = error_of("here:\n.rept here\n.endr\n");
    assert_eq!((counted_by_label.line, counted_by_label.col), (2, 7));
    assert_eq!(
        counted_by_label.message,
        "the `.rept` count must be a constant of 0 or more"
    );
    let huge = error_of(".rept 1 << 40\nnop\n.endr\n");
    assert!(
        huge.message.starts_with("`.rept` expands to more than"),
        "{}",
        huge.message
    );
}

#[test]
fn conditional_blocks_must_be_balanced() {
    let unterminated = error_of("nop\n.if 1\nnop\n");
    assert_eq!(
        (unterminated.line, unterminated.col, unterminated.len),
        (2, 1, 3)
    );
    assert_eq!(unterminated.message, "`.if` without `.endif`");
    assert!(unterminated.hint.is_some());
    let nested_unterminated = error_of(".if 1\n.ifdef X\n.endif\n");
    assert_eq!(nested_unterminated.line, 1);
    let stray_else = error_of("nop\n  .else\n");
    assert_eq!((stray_else.line, stray_else.col, stray_else.len), (2, 3, 5));
    assert_eq!(stray_else.message, "`.else` without `.if`");
    let stray_endif = error_of(".endif\n");
    assert_eq!(stray_endif.message, "`.endif` without `.if`");
    let second_else = error_of(".if 0\n.else\n.else\n.endif\n");
    assert_eq!(
        (second_else.line, second_else.message.as_str()),
        (3, "`.else` after `.else`")
    );
    let elseif_after_else = error_of(".if 0\n.else\n.elseif 1\n.endif\n");
    assert_eq!(elseif_after_else.message, "`.elseif` after `.else`");
    // A block may not straddle a `.rept` body.
    let straddling = error_of(".rept 2\n.if 1\n.endr\n.endif\n");
    assert_eq!(
        (straddling.line, straddling.message.as_str()),
        (2, "`.if` without `.endif`")
    );
}

#[test]
fn conditions_use_constants_defined_earlier() {
    let undefined = error_of(".set SYNC_CORE, 1\n.if SYNC_CORR\n.endif\n");
    assert_eq!((undefined.line, undefined.col, undefined.len), (2, 5, 9));
    assert_eq!(
        undefined.message,
        "`SYNC_CORR` is not a constant defined before this line"
    );
    assert_eq!(undefined.hint.as_deref(), Some("did you mean `SYNC_CORE`?"));
    let label = error_of("start:\n.if start\n.endif\n");
    assert!(
        label
            .hint
            .is_some_and(|hint| hint.contains("labels have no value yet"))
    );
    let later = error_of(".if LATER\n.endif\n.set LATER, 1\n");
    assert_eq!(later.line, 1);
    let here = error_of(".if . == 0\n.endif\n");
    assert_eq!(here.message, "a condition cannot use `.`");
    let no_name = error_of(".ifdef 3\n.endif\n");
    assert_eq!(no_name.message, "`.ifdef` needs a symbol name");
    let trailing = error_of(".endif 1\n");
    assert_eq!((trailing.line, trailing.col), (1, 8));
    let after_label = error_of("here: .if 1\n.endif\n");
    assert_eq!(
        after_label.message,
        "`.if` must be the first word of its line"
    );
    // The condition of a skipped `.elseif` is not evaluated, as in GNU.
    assert!(assemble(".if 1\n.elseif UNDEFINED\n.endif\n").is_ok());
}
