# Conditional assembly program for gas_diff.rs: `.if`/`.elseif`/`.else`/`.endif`,
# `.ifdef`/`.ifndef`, nesting, `.if` inside `.rept`, comparisons and logical operators.
.intel_syntax noprefix
.set RETURN_IRET, 0
.set POLICY, 1
.set SAME_MM, 0
.set ALL_BUT_IDLE, 1
.text
entry:
.if RETURN_IRET
    iretq
.else
    sysretq
.endif
.if POLICY == SAME_MM
    mov eax, 1
.elseif POLICY == ALL_BUT_IDLE
    mov eax, 2
  .if RETURN_IRET || POLICY > 0
    mov ebx, 3
  .else
    mov ebx, 4
  .endif
.else
    mov eax, 5
.endif
.ifdef entry
    nop
.endif
.ifndef missing
    cpuid
.endif
.ifdef missing
    hlt
.endif
.if 0
  .if 1
    ud2
  .else
    int3
  .endif
.elseif !POLICY
    pause
.else
    mfence
.endif
.data
.set I, 0
.rept 6
  .if I & 1 && I != 3
    .byte I
  .elseif I >= 4
    .byte 0x40 + I
  .else
    .byte 0x80 + (I <= 2)
  .endif
  .set I, I + 1
.endr
.byte 4 + 2 & 1, 8 >> 1 + 1, 3 == 1 + 2, 1 || 0 && 0, 5 <> 0, 2 <= 1
.quad POLICY == ALL_BUT_IDLE, POLICY < SAME_MM, !RETURN_IRET
