# synclab kernel: the scheduler (kernel/sched/core.c), the idle task
# (kernel/sched/idle.c) and task exit (kernel/exit.c).
#
# Calling convention of the whole kernel: System V (arguments in rdi, rsi, rdx,
# result in rax, rbx/rbp/r12-r15 preserved, the others clobbered).
# schedule() and everything it calls run with IF clear.

.section .kernel, "ax"

# __schedule(SM_NONE) (kernel/sched/core.c): pick the next task of this CPU's
# runqueue and switch to it. Returns when the current task runs again.
schedule:
    push rbx
    push r12
    push r13
    mov rbx, rsp
    and rbx, -THREAD_SIZE               # prev = current
    mov r12, qword ptr [rbx + TASK_PCPU] # rq = this_rq()
    mov rdi, r12
    call pick_next_task
    cmp rax, rbx
    je 1f                               # prev keeps the CPU: no switch
    mov r13, rax                        # next
.if BARRIER_BEFORE_RQ_CURR
    mfence                              # smp_mb__after_spinlock() after rq_lock
.endif
    mov qword ptr [r12 + RQ_CURR], r13  # RCU_INIT_POINTER(rq->curr, next)
.if BARRIER_AFTER_RQ_CURR
    # "The membarrier system call requires each architecture to have a full
    # memory barrier after updating rq->curr, before returning to user-space."
    mfence
.endif
    inc qword ptr [r12 + RQ_NR_SWITCHES]
    mov rdi, r12
    mov rsi, rbx
    mov rdx, r13
    call context_switch
1:  pop r13
    pop r12
    pop rbx
    ret

# pick_next_task (kernel/sched/core.c), as a round robin over rq->tasks
# (instead of CFS): the first TASK_RUNNING task after the previous pick, else
# the idle task. Blocked (TASK_INTERRUPTIBLE) and dead tasks stay on the list
# but are skipped, as if dequeued (Linux's deactivate_task). rdi = rq; returns the task in rax.
pick_next_task:
    mov rcx, qword ptr [rdi + RQ_NR_TASKS]
    mov rdx, qword ptr [rdi + RQ_NEXT]
    mov r8, rcx                         # candidates left
    test r8, r8
    jz 3f
1:  mov rax, qword ptr [rdi + RQ_TASKS + rdx * 8]
    inc rdx
    cmp rdx, rcx
    jb 2f
    xor edx, edx
2:  cmp qword ptr [rax + TASK_STATE], TASK_RUNNING
    je 4f
    dec r8
    jnz 1b
3:  mov rax, qword ptr [rdi + RQ_IDLE]
    ret
4:  mov qword ptr [rdi + RQ_NEXT], rdx
    ret

# context_switch(rq, prev, next) (kernel/sched/core.c): the mm part, then
# switch_to(), then finish_task_switch(). rdi = rq, rsi = prev, rdx = next.
context_switch:
    cmp qword ptr [rdx + TASK_MM], 0
    jne 2f
    # To a kernel thread: enter_lazy_tlb(), keep prev's page tables and
    # borrow its active_mm; no CR3 write.
    mov rax, qword ptr [rsi + TASK_ACTIVE_MM]
    mov qword ptr [rdx + TASK_ACTIVE_MM], rax
    cmp qword ptr [rsi + TASK_MM], 0
    je 1f
.if LAZY_TLB_REFCOUNT
    lock inc qword ptr [rax + MM_COUNT] # from user: mmgrab_lazy_tlb(prev->active_mm)
.endif
    jmp 4f
1:  mov qword ptr [rsi + TASK_ACTIVE_MM], 0 # from kernel: the reference moves to next
    jmp 4f
    # To a user task (or a kernel thread that did kthread_use_mm).
2:  push rdi
    push rsi
    push rdx
    mov rdi, qword ptr [rsi + TASK_ACTIVE_MM]
    mov rsi, qword ptr [rdx + TASK_MM]
    call switch_mm_irqs_off
    pop rdx
    pop rsi
    pop rdi
    cmp qword ptr [rsi + TASK_MM], 0
    jne 4f
    # From a kernel thread: drop the borrowed mm in finish_task_switch().
    mov rax, qword ptr [rsi + TASK_ACTIVE_MM]
    mov qword ptr [rdi + RQ_PREV_MM], rax
    mov qword ptr [rsi + TASK_ACTIVE_MM], 0
4:  mov rdi, rsi
    mov rsi, rdx
    call __switch_to_asm                # returns prev, in next's context
    mov rdi, rax
    jmp finish_task_switch

# switch_mm_irqs_off(prev, next) (arch/x86/mm/tlb.c): load next's page tables
# unless they are already loaded. The CR3 write is serializing, which is what
# gives membarrier its barrier and core serialization when the mm changes.
# rdi = prev mm, rsi = next mm.
switch_mm_irqs_off:
    cmp rdi, rsi
    je 1f
    mov rax, qword ptr [rsi + MM_PGD]
    mov cr3, rax                        # load_new_mm_cr3()
1:  ret

# __switch_to_asm (arch/x86/entry/entry_64.S) and __switch_to
# (arch/x86/kernel/process_64.c): save prev's callee-saved registers and stack
# pointer, load next's, and point the syscall entry at next's kernel stack.
# rdi = prev, rsi = next; returns prev in rax, on next's stack: to where next
# called __switch_to_asm, or to its ret_from_fork_* if it never ran.
__switch_to_asm:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    mov qword ptr [rdi + TASK_SP], rsp
    mov rsp, qword ptr [rsi + TASK_SP]
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    mov rax, qword ptr [rsi + TASK_PCPU]
    lea rcx, [rsi + THREAD_SIZE]
    mov qword ptr [rax + PCPU_TOP_OF_STACK], rcx # update_task_stack()
    mov rax, rdi
    ret

# finish_task_switch(prev) (kernel/sched/core.c): when we came from a kernel
# thread, drop the mm it borrowed, after the optional
# membarrier_mm_sync_core_before_usermode(). rdi = prev.
finish_task_switch:
    mov rax, rsp
    and rax, -THREAD_SIZE               # current
    mov rcx, qword ptr [rax + TASK_PCPU]
    mov rdx, qword ptr [rcx + RQ_PREV_MM]
    test rdx, rdx
    jz 1f
    mov qword ptr [rcx + RQ_PREV_MM], 0
.if SYNC_CORE_BEFORE_USERMODE
    # membarrier_mm_sync_core_before_usermode(mm) (include/linux/sched/mm.h):
    # "When switching through a kernel thread, the loop in membarrier may have
    # observed that kernel thread and not issued an IPI."
    cmp qword ptr [rax + TASK_MM], rdx
    jne 2f
    test qword ptr [rdx + MM_MEMBARRIER_STATE], MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE_READY
    jz 2f
    serialize                           # sync_core_before_usermode()
2:
.endif
.if LAZY_TLB_REFCOUNT
    lock dec qword ptr [rdx + MM_COUNT] # mmdrop_lazy_tlb(mm): a full barrier
.endif
1:  ret

# yield() for kernel threads (kernel/sched/core.c): give the CPU to the next
# runnable task; kernel threads run with IF set, schedule() without.
yield:
    cli
    call schedule
    sti
    ret

# Sleep until woken: set_current_state(TASK_INTERRUPTIBLE) then schedule()
# (include/linux/sched.h, kernel/sched/core.c), the way every Linux sleep
# starts (pause(2), wait_event_interruptible ...). schedule() switches to the
# next runnable task, or the idle task, and returns once a Wake event made
# this task runnable again and its CPU picked it (task_request_interrupt in
# entry.s). Interrupts stay off until the switch, so a Wake cannot come
# between the state change and schedule().
# block() is the kernel threads' version (they run with IF set), SYS_BLOCK
# the system call's (sys_pause in kernel/signal.c), which returns 0.
block:
    cli
    call sleep_until_woken
    sti
    ret

sys_block:
    call sleep_until_woken
    xor eax, eax
    ret

sleep_until_woken:
    mov rax, rsp
    and rax, -THREAD_SIZE
    mov qword ptr [rax + TASK_STATE], TASK_INTERRUPTIBLE # set_current_state()
    jmp schedule

# sched_yield(2) (kernel/sched/core.c do_sched_yield). Returns 0.
sys_sched_yield:
    call schedule
    xor eax, eax
    ret

# exit(2) / do_exit() (kernel/exit.c), also kthread_exit(): exit_mm() leaves
# the task lazily on its mm (mm = NULL, active_mm kept), then the task is dead
# and schedule() never comes back.
sys_exit:
kthread_exit:
    cli
    mov rax, rsp
    and rax, -THREAD_SIZE
    mov rcx, qword ptr [rax + TASK_MM]
    test rcx, rcx
    jz 1f
.if LAZY_TLB_REFCOUNT
    lock inc qword ptr [rcx + MM_COUNT] # exit_mm(): mmgrab_lazy_tlb(mm), the lazy reference,
.endif
    mov qword ptr [rax + TASK_MM], 0    # then current->mm = NULL
1:  mov qword ptr [rax + TASK_STATE], TASK_DEAD
    call schedule
    ud2                                 # a dead task is never picked again

# The idle task (kernel/sched/idle.c do_idle(), arch/x86 default_idle()):
# run whatever is runnable, otherwise halt with interrupts enabled until an
# interrupt (an IPI, the timer, a Wake event) arrives. A Wake switches to the
# woken task from its handler rather than through this loop: the machine does
# not model the one-instruction interrupt shadow of sti, so a wakeup taken
# between sti and hlt would otherwise be followed by a halt.
do_idle:
    cli
    call schedule                       # schedule_idle()
    sti
    hlt                                 # safe_halt(): sti; hlt
    jmp do_idle
