# CPU 1's user thread in jit-membarrier.ron and iret-nonserializing.ron: it
# keeps calling the JIT's code in user mode (so membarrier's IPI interrupts
# user code and returns to it) until the JIT publishes, then calls it once
# more and keeps the result.

.text
# CPU 1: runs the JIT's code in a loop until the JIT publishes.
runner:
    call    jit_code
    mov     qword ptr [first_result], rax
    mov     qword ptr [scene_set], 1    # the old code is in CPU 1's I-cache
1:  call    jit_code
    mov     rcx, qword ptr [published]
    test    rcx, rcx
    jz      1b
    mov     qword ptr [saw_published], rcx
    call    jit_code                    # after membarrier: must be the new code
    mov     qword ptr [result], rax
    mov     eax, SYS_EXIT
    syscall
