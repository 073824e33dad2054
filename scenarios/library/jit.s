# The JIT thread shared by the kernel scenarios of this library (a user
# thread of mm 1). It registers its mm for membarrier, waits until the other
# CPU is where the scenario wants it (`scene_set`, set by the scenario's
# threads), rewrites `jit_code` (mov eax, 1 becomes mov eax, 2), calls
# membarrier(MEMBARRIER_CMD), and publishes `published`. The sync point
# `code_published` is where the protocol says every thread of the mm may run
# the new code: a stale execution after it is a contract violation.
#
# MEMBARRIER_CMD defaults to PRIVATE_EXPEDITED_SYNC_CORE; a scenario may set
# SYNC_CORE to 0 (a variant define) for plain PRIVATE_EXPEDITED.
.ifndef SYNC_CORE
.set SYNC_CORE, 1
.endif
.if SYNC_CORE
.set MEMBARRIER_CMD, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE
.else
.set MEMBARRIER_CMD, MEMBARRIER_CMD_PRIVATE_EXPEDITED
.endif

.text
jit:
    mov     eax, SYS_MEMBARRIER
    mov     edi, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED
    xor     esi, esi
    syscall
    mov     eax, SYS_MEMBARRIER
    mov     edi, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE
    xor     esi, esi
    syscall
1:  pause
    cmp     qword ptr [scene_set], 0
    je      1b
    mov     byte ptr [jit_code + 1], 2  # the rewrite: mov eax, 2
    mov     eax, SYS_MEMBARRIER
    mov     edi, MEMBARRIER_CMD
    xor     esi, esi
    syscall
    mov     qword ptr [membarrier_result], rax
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
published:         .quad 0
scene_set:         .quad 0
membarrier_result: .quad 0
first_result:      .quad 0
saw_published:     .quad 0
result:            .quad 0
