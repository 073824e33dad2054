# CPU 1's threads in seed-kthread-switch.ron and idle-only-skip.ron: a user
# thread `u` of the JIT's mm that has run the JIT's code and yields to the
# kernel thread `k`; `k` runs (lazily on mm 1) until the JIT publishes, then
# yields back to `u`, which returns to user mode and calls the code again.

.text
# CPU 1's user thread: runs the JIT's function once, lets the kernel thread
# run, then calls the function again once it sees the JIT's publication.
u:
    call    jit_code
    mov     qword ptr [first_result], rax
    mov     eax, SYS_SCHED_YIELD
    syscall                             # to k; back here through SYSRET
    mov     rax, qword ptr [published]
    mov     qword ptr [saw_published], rax
    call    jit_code                    # after membarrier: must be the new code
    mov     qword ptr [result], rax
    mov     eax, SYS_EXIT
    syscall

# CPU 1's kernel thread: says it runs, waits for the JIT's publication (so
# membarrier runs while it is rq->curr), then yields back to u.
k:
    mov     qword ptr [scene_set], 1      # CPU 1 runs a kernel thread
1:  pause
    cmp     qword ptr [published], 0
    je      1b
    call    yield
    call    kthread_exit
