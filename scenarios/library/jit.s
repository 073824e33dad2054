# The JIT shared by the kernel scenarios of this library: a user thread of
# mm 1 that registers for membarrier SYNC_CORE, waits until CPU 1 runs its
# kernel thread (`cpu1_in_kthread`), rewrites `jit_code` (mov eax, 1 becomes
# mov eax, 2), calls membarrier(MEMBARRIER_CMD) and publishes. The sync point
# `code_published` is where the protocol says every thread of the mm may run
# the new code. MEMBARRIER_CMD defaults to PRIVATE_EXPEDITED_SYNC_CORE.
.ifndef MEMBARRIER_CMD
.set MEMBARRIER_CMD, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE
.endif
.text
jit:
    mov     eax, SYS_MEMBARRIER
    mov     edi, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE
    xor     esi, esi
    syscall
1:  pause
    cmp     qword ptr [cpu1_in_kthread], 0
    je      1b
    mov     byte ptr [jit_code + 1], 2  # the rewrite: mov eax, 2
    mov     eax, SYS_MEMBARRIER
    mov     edi, MEMBARRIER_CMD
    xor     esi, esi
    syscall
.sync_point code_published
    mov     qword ptr [published], 1
    mov     eax, SYS_EXIT
    syscall

# The generated code, alone in its cache line.
    .p2align 6
jit_code:
    mov     eax, 1
    ret
    .p2align 6

.data
published:       .quad 0
cpu1_in_kthread: .quad 0
first_result:    .quad 0
saw_published:   .quad 0
result:          .quad 0
