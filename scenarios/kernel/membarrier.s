# synclab kernel: membarrier(2) (kernel/sched/membarrier.c) and the kernel
# threads' use of user address spaces (kernel/kthread.c).

.section .kernel, "ax"

# sys_membarrier(cmd, flags) (kernel/sched/membarrier.c). rdi = cmd,
# rsi = flags (must be 0). Returns 0 or -errno.
sys_membarrier:
    test rsi, rsi
    jnz 9f
    mov rax, rsp
    and rax, -THREAD_SIZE
    mov rdx, qword ptr [rax + TASK_MM]  # current->mm
    cmp rdi, MEMBARRIER_CMD_QUERY
    jne 1f
    mov eax, MEMBARRIER_CMDS_SUPPORTED
    ret
1:  cmp rdi, MEMBARRIER_CMD_PRIVATE_EXPEDITED
    jne 2f
    mov esi, IPI_MB_VECTOR
    mov ecx, MEMBARRIER_STATE_PRIVATE_EXPEDITED_READY
    jmp membarrier_private_expedited
2:  cmp rdi, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE
    jne 3f
    mov esi, IPI_SYNC_CORE_VECTOR
    mov ecx, MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE_READY
    jmp membarrier_private_expedited
    # membarrier_register_private_expedited() (the synchronize_rcu() that
    # waits for CPUs still running the mm unregistered is not modelled).
3:  mov ecx, MEMBARRIER_STATE_PRIVATE_EXPEDITED_READY
    cmp rdi, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED
    je 4f
    mov ecx, MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE_READY
    cmp rdi, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE
    jne 9f
4:  lock or qword ptr [rdx + MM_MEMBARRIER_STATE], rcx
    xor eax, eax
    ret
9:  mov rax, -EINVAL
    ret

# membarrier_private_expedited(flags) (kernel/sched/membarrier.c).
# rdx = mm, rsi = the IPI vector (ipi_mb or ipi_sync_core), rcx = the
# registration the command needs. Every other CPU whose rq->curr passes
# MEMBARRIER_IPI_POLICY gets the IPI; then wait until each acknowledged
# (smp_call_function_many(..., wait = 1)).
membarrier_private_expedited:
    test qword ptr [rdx + MM_MEMBARRIER_STATE], rcx
    jnz 1f
    mov rax, -EPERM
    ret
1:  push rbx
    push r12
    push r13
    push r14
    push r15
    mov rbx, rdx                        # mm
    mov r12, rsi                        # vector
    mov rax, rsp
    and rax, -THREAD_SIZE
    mov rax, qword ptr [rax + TASK_PCPU]
    mov r14, qword ptr [rax + PCPU_CPU] # this CPU
    mfence                              # smp_mb(): system call entry is not a mb
    xor r15d, r15d                      # for_each_online_cpu(cpu)
2:  cmp r15, r14
    je 3f
    mov r13, qword ptr [cpu_areas + r15 * 8]
    mov rax, qword ptr [r13 + RQ_CURR]  # p = rcu_dereference(cpu_rq(cpu)->curr)
.if MEMBARRIER_IPI_POLICY == MEMBARRIER_IPI_SAME_MM
    cmp qword ptr [rax + TASK_MM], rbx  # p->mm == mm: skips kernel threads on a lazy mm
    jne 3f
.elseif MEMBARRIER_IPI_POLICY == MEMBARRIER_IPI_SKIP_KTHREADS
    test qword ptr [rax + TASK_FLAGS], PF_KTHREAD # p->flags & PF_KTHREAD: skip, even
    jnz 3f                              # after kthread_use_mm(mm)
    cmp qword ptr [rax + TASK_MM], rbx
    jne 3f
.elseif MEMBARRIER_IPI_POLICY == MEMBARRIER_IPI_ALL_BUT_IDLE
    cmp rax, qword ptr [r13 + RQ_IDLE]  # p == rq->idle
    je 3f
.endif
    # smp_call_function_many(): csd_lock(), then the IPI. The fence orders the
    # csd store before the ICR write, which may overtake the store buffer
    # (weak_wrmsr_fence(), arch/x86/include/asm/barrier.h).
    mov qword ptr [r13 + PCPU_CSD + r14 * 8], r12
    mfence
    lfence
    mov ecx, MSR_X2APIC_ICR
    mov eax, r12d                       # fixed delivery, physical destination
    mov edx, r15d                       # x2APIC ID = CPU number
    wrmsr
3:  inc r15
    cmp r15, qword ptr [nr_cpu_ids]
    jb 2b
    # csd_lock_wait() for every CPU we interrupted, with interrupts enabled
    # (smp_call_function_many must not be called with them disabled: two CPUs
    # waiting for each other would deadlock).
    xor r15d, r15d
4:  mov r13, qword ptr [cpu_areas + r15 * 8]
    cmp qword ptr [r13 + PCPU_CSD + r14 * 8], 0
    je 6f
    sti
5:  pause
    cmp qword ptr [r13 + PCPU_CSD + r14 * 8], 0
    jne 5b
    cli
6:  inc r15
    cmp r15, qword ptr [nr_cpu_ids]
    jb 4b
    mfence                              # smp_mb(): exit from system call is not a mb
.if MEMBARRIER_SELF_SYNC
    cmp r12, IPI_SYNC_CORE_VECTOR
    jne 7f
    serialize                           # SYNC_CORE also for the calling thread
7:
.endif
    xor eax, eax
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    ret

# kthread_use_mm(mm) (kernel/kthread.c, Linux 5.10): the calling kernel
# thread starts working on a user address space. rdi = mm.
kthread_use_mm:
    cli                                 # local_irq_disable()
    mov rax, rsp
    and rax, -THREAD_SIZE               # tsk = current
    mov rsi, rdi
    mov rdi, qword ptr [rax + TASK_ACTIVE_MM]
    cmp rdi, rsi
    je 1f
    lock inc qword ptr [rsi + MM_COUNT] # mmgrab(mm)
    mov qword ptr [rax + TASK_ACTIVE_MM], rsi
1:  mov qword ptr [rax + TASK_MM], rsi
    push rdi
    push rsi
    call switch_mm_irqs_off             # (active_mm, mm)
    pop rsi
    pop rdi
    sti                                 # local_irq_enable()
    # "Membarrier requires a memory barrier after storing to tsk->mm, before
    # accessing user-space memory": mmdrop() of the old active_mm, or smp_mb().
    cmp rdi, rsi
    je 2f
    lock dec qword ptr [rdi + MM_COUNT] # mmdrop(active_mm)
    ret
2:  mfence                              # smp_mb()
    ret

# kthread_unuse_mm(mm) (kernel/kthread.c, Linux 5.10): stop working on the
# address space, but keep it loaded lazily (active_mm is still mm).
# rdi = mm (unused: it is current->mm).
kthread_unuse_mm:
    mfence                              # smp_mb__after_spinlock(): "Membarrier
                                        # requires a memory barrier after accessing
                                        # user-space memory, before clearing tsk->mm."
    mov rax, rsp
    and rax, -THREAD_SIZE
    mov qword ptr [rax + TASK_MM], 0    # tsk->mm = NULL; enter_lazy_tlb(mm, tsk)
    ret
