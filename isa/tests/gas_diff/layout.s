# Layout program for gas_diff.rs: labels, branch relaxation, data directives.
.intel_syntax noprefix
.equ COUNT, 0x10
.set SHIFT, 3
.text
.globl start
start:
    jmp short_fwd
    je short_fwd
    jz short_fwd
    jne short_fwd
    jb short_fwd
    jc short_fwd
    jnae short_fwd
    jae short_fwd
    jnc short_fwd
    jbe short_fwd
    ja short_fwd
    js short_fwd
    jns short_fwd
    jp short_fwd
    jpe short_fwd
    jnp short_fwd
    jo short_fwd
    jno short_fwd
    jl short_fwd
    jge short_fwd
    jle short_fwd
    jg short_fwd
back:
    nop
    jmp back
    jl back
    jg back
short_fwd:
    mov eax, COUNT
    shl eax, SHIFT
    add rax, COUNT*4
    mov ecx, offset data_start
    mov rdx, offset far_fwd
    lea rsi, [rip+data_start]
    mov rdi, qword ptr [rip+data_start+8]
    mov r8, qword ptr [data_start]
    mov r9, [data_start+16]
    mov r10d, dword ptr [data_start+rax*4]
    push offset start
    cmp rax, offset short_fwd
    add eax, far_fwd - start
    call far_fwd
    call back
    jmp far_fwd
    jne far_fwd
    jrcxz near_target
    loop near_target
    loopne near_target
    jmp over_near_target
near_target:
    ret
over_near_target:
    jmp edge_127
    .skip 125, 0x90
edge_127:
    jmp edge_128
    .skip 128, 0x90
edge_128:
    nop
    js edge_128
    je back
    jmp start
# Growing one jump pushes the next out of reach: relaxation must cascade.
cascade:
    jmp cascade_end
    jmp cascade_end
    .skip 120, 0xcc
    jg cascade_end
    jmp cascade_end
cascade_end:
    jmp .
    je . + 2
# Targets in another section always take the near form.
    jmp data_start
    jne data_end
    .rept 2
1:  jmp 1b
    .endr
# Local numeric labels.
1:  nop
    jmp 1b
    jne 1f
    nop
1:  ret
    jmp 1b
2:  jmp 2f
2:  jmp 2b
    .p2align 5
    ret
    .p2align 4, 0xcc
    .balign 8
    .align 16
far_fwd:
    .skip 300, 0x90
    jmp start
    ja back
    call start
    jmp 0x401000
    ret 16
    .byte 0xc3
    .p2align 6
    int3
.data
data_start:
    .quad start, far_fwd, data_start+8, back-start
    .long short_fwd - start, -1, 0xffffffff
    .word 0x1234, -2, COUNT
    .2byte 5
    .byte 1, 2, 'a', -1, 255
    .ascii "abc", "d\n\t\\\""
    .asciz "xyz"
    .string "s"
    .zero 5
    .skip 3, 0xaa
    .space 2
    .p2align 3
    .balign 16, 0xcc
    .quad -1
    .8byte 0x1122334455667788
    .4byte 7
    .int 8
    .short 9
    .value 10
    .quad .
    .long . - data_start, data_end - .
    .fill 1, 8, -1
    .fill 2, 3, 0x112233
    .fill 2
    .rept 3
    .byte 5
    .rept 2
    .word 6
    .endr
    .endr
data_end:
    .long data_end - data_start
