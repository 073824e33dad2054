# synclab kernel: constants shared by the kernel, the code the builder
# generates and the scenario's own code (this file is assembled before the
# scenario's program, so user code can write `mov eax, SYS_MEMBARRIER`).
#
# Numbers follow Linux x86-64 where Linux has one (syscall numbers, membarrier
# commands and states, vectors, errno values, task flags).

# --- System calls (arch/x86/entry/syscalls/syscall_64.tbl) -----------------
.set SYS_SCHED_YIELD, 24
# SYS_BLOCK sleeps until a `Wake` event of the scenario wakes the task. It has
# the number of pause(2), which also sleeps in TASK_INTERRUPTIBLE until
# something from outside (there a signal) wakes it; it returns 0.
.set SYS_BLOCK, 34
.set SYS_EXIT, 60
.set SYS_MEMBARRIER, 324

# --- membarrier (include/uapi/linux/membarrier.h) --------------------------
.set MEMBARRIER_CMD_QUERY, 0
.set MEMBARRIER_CMD_PRIVATE_EXPEDITED, 8
.set MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 16
.set MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 32
.set MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 64
# The commands this kernel implements (what MEMBARRIER_CMD_QUERY returns).
.set MEMBARRIER_CMDS_SUPPORTED, 8 | 16 | 32 | 64
# mm->membarrier_state bits (include/linux/sched/mm.h)
.set MEMBARRIER_STATE_PRIVATE_EXPEDITED_READY, 1
.set MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE_READY, 16

# --- errno (include/uapi/asm-generic/errno-base.h), returned negated --------
.set EPERM, 1
.set EINVAL, 22
.set ENOSYS, 38

# --- Which CPUs membarrier interrupts (the kernel option MEMBARRIER_IPI_POLICY)
.set MEMBARRIER_IPI_SAME_MM, 0        # Linux 5.9: rq->curr->mm == current->mm
.set MEMBARRIER_IPI_ALL_BUT_IDLE, 1   # the thread's proposal: rq->curr != rq->idle
.set MEMBARRIER_IPI_ALL, 2            # every other CPU
.set MEMBARRIER_IPI_SKIP_KTHREADS, 3  # rq->curr is no PF_KTHREAD and rq->curr->mm == current->mm

# --- Interrupt vectors (arch/x86/include/asm/irq_vectors.h) ----------------
.set LOCAL_TIMER_VECTOR, 0xec
.set IPI_SYNC_CORE_VECTOR, 0xfb       # membarrier SYNC_CORE (Linux: CALL_FUNCTION_SINGLE_VECTOR)
.set IPI_MB_VECTOR, 0xfc              # membarrier (Linux: CALL_FUNCTION_VECTOR)

# --- MSRs and selectors ------------------------------------------------------
.set MSR_X2APIC_EOI, 0x80b
.set MSR_X2APIC_ICR, 0x830
.set MSR_X2APIC_LVT_TIMER, 0x832
.set MSR_TSC_DEADLINE, 0x6e0
.set LVT_TIMER_TSC_DEADLINE, 2 << 17
.set USER_CS, 0x33                    # __USER_CS
.set USER_DS, 0x2b                    # __USER_DS
.set USER_RFLAGS, 0x202               # IF and the reserved bit 1

# --- Where the kernel is loaded (below the default .text at 0x400000, and far
# above the default .data at 0x600000) ---------------------------------------
.set KERNEL_TEXT_BASE, 0x100000
.set KERNEL_DATA_BASE, 0x1000000

# --- Sizes -------------------------------------------------------------------
# A task's kernel stack is THREAD_SIZE bytes, THREAD_SIZE-aligned, with the
# task_struct at its lowest address (as i386/x86-64 kept thread_info before
# Linux 4.9), so `rsp & -THREAD_SIZE` is `current` anywhere on it. Each CPU's
# per-CPU area has the same size and alignment, with the entry stack (TSS.RSP0)
# above its data.
.set THREAD_SIZE, 0x1000
.set MAX_CPUS, 64
.set MAX_RQ_TASKS, 16

# --- Task request vectors -----------------------------------------------------
# The scenario's `Wake` and `Block` events: one vector per runqueue slot and
# request (Linux has one RESCHEDULE_VECTOR, 0xfd, and a per-CPU wake list the
# waker fills; here the vector itself says which task and what to do, see
# task_request_interrupt in entry.s). Wake of slot i is TASK_WAKE_VECTOR + i,
# Block of slot i TASK_BLOCK_VECTOR + i.
.set TASK_WAKE_VECTOR, 0xc0
.set TASK_BLOCK_VECTOR, TASK_WAKE_VECTOR + MAX_RQ_TASKS
.set TASK_REQUEST_ENTRY_SIZE, 8       # bytes of each entry stub (Linux: IDT_ALIGN)

# --- struct task_struct (include/linux/sched.h), at the bottom of its stack --
.set TASK_PCPU, 0          # this task's CPU: its per-CPU area (same offset as PCPU_SELF)
.set TASK_SP, 8            # saved kernel rsp while switched out (thread.sp)
.set TASK_MM, 16           # struct mm_struct *mm; 0 for kernel threads
.set TASK_ACTIVE_MM, 24    # the mm whose page tables are loaded while it runs
.set TASK_FLAGS, 32        # PF_* flags
.set TASK_STATE, 40        # TASK_RUNNING, TASK_INTERRUPTIBLE or TASK_DEAD
.set TASK_ID, 48           # index in the scenario's task list
.set PF_IDLE, 0x2
.set PF_KTHREAD, 0x200000
.set TASK_RUNNING, 0           # running or runnable: pick_next_task may pick it
.set TASK_INTERRUPTIBLE, 1     # blocked until woken (SYS_BLOCK, block, a Block event)
.set TASK_DEAD, 0x80

# --- struct mm_struct --------------------------------------------------------
.set MM_PGD, 0             # the address-space id, loaded into CR3
.set MM_MEMBARRIER_STATE, 8
.set MM_COUNT, 16           # mm_count: references, incl. lazy ones (never freed here)

# --- Per-CPU area: struct rq (kernel/sched/sched.h) and per-CPU variables ----
.set PCPU_SELF, 0          # the area's own address (same offset as TASK_PCPU)
.set PCPU_CPU, 8           # CPU number = x2APIC ID
.set RQ_CURR, 16           # rq->curr
.set RQ_IDLE, 24           # rq->idle
.set RQ_PREV_MM, 32        # rq->prev_mm: lazy mm to drop in finish_task_switch
.set RQ_NR_SWITCHES, 40    # rq->nr_switches
.set RQ_NR_TASKS, 48       # how many entries of RQ_TASKS are used
.set RQ_NEXT, 56           # round-robin cursor into RQ_TASKS
.set PCPU_TOP_OF_STACK, 64 # cpu_current_top_of_stack: current's kernel stack top
.set PCPU_USER_RSP, 72     # scratch slot of the syscall entry (Linux: TSS.sp2)
.set RQ_TASKS, 128         # MAX_RQ_TASKS task pointers, run in round robin
.set PCPU_CSD, 256         # MAX_CPUS call-function slots, one per sending CPU:
                           # the vector requested, 0 when done (csd lock)
.set PCPU_DATA_SIZE, 768   # the entry stack is above this

# --- struct pt_regs (arch/x86/include/asm/ptrace.h order), offsets from the
# stack pointer after entry_SYSCALL_64 pushed it; the top five words are an
# IRET frame.
.set PT_R15, 0
.set PT_R14, 8
.set PT_R13, 16
.set PT_R12, 24
.set PT_RBP, 32
.set PT_RBX, 40
.set PT_R9, 48
.set PT_R8, 56
.set PT_R10, 64
.set PT_RDX, 72
.set PT_RSI, 80
.set PT_RDI, 88
.set PT_ORIG_RAX, 96
.set PT_RIP, 104
.set PT_CS, 112
.set PT_RFLAGS, 120
.set PT_RSP, 128
.set PT_SS, 136
.set PT_REGS_SIZE, 144
