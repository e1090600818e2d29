package dev.vcpuemu.model.cpu;

import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.stats.Counters;
import dev.vcpuemu.model.trace.Recorder;
import dev.vcpuemu.model.trace.TraceEvent;
import dev.vcpuemu.model.truth.Delivery;

/**
 * The architectural state of one x86 vCPU and its delivery rules (DESIGN §1.2, reference
 * §1.8): IF and the STI/MOV-SS shadow, CR2, HLT, NMI blocking with one latched NMI, the LAPIC's
 * IRR (one bit per vector, so two requests coalesce) and its software enable, the pending
 * exception (a second one makes #DF, a third shuts the CPU down), SMM, and the #VE design's
 * information areas.
 *
 * <p>Events are delivered only at micro-op boundaries, one per boundary, by priority: the
 * pending exception, then an SMI, then (outside SMM) an NMI unless blocked since the last NMI or
 * in the STI/MOV-SS shadow (KVM's {@code vmx_nmi_blocked}), then a maskable interrupt if IF=1
 * and no shadow. NMIs are edge-triggered and latched, never merged while they can still be
 * taken: at most two are pending when none is in progress (one to deliver, one latched), one
 * while blocked, as KVM's {@code process_nmi} keeps them; more are lost and counted. {@link #deliverNext} does the architectural
 * part and hands the event to the guest's {@link Idt}, which pushes its handler; an IRET
 * ({@link #iret}) ends NMI blocking whatever it returns from (§4(vii)).
 *
 * <p>The CPU knows nothing of the guest's tasks or frames. It records into a {@link Recorder}
 * and reads no clock.
 */
public final class X86Cpu {

    /** The guest's handlers for what the CPU delivers: its IDT, and KVM-as-L1 for a #PF VM exit. */
    public interface Idt {
        /** A #DF was delivered: Linux's handler panics. */
        void doubleFault();

        /** A #GP: a WRMSR the host refused. */
        void generalProtection(PendingException p);

        /** A #PF (genuine or async), CR2 already loaded. */
        void pageFault(PendingException p);

        /** An async #PF raised in guest mode: a #PF VM exit to L1, CR2 untouched (§2.4 step 3). */
        void pageFaultVmExit(PendingException p);

        /** The #VE design's exception; its information goes to the area of the level it lands at. */
        void virtualizationException(PendingException p);

        void smi();

        /** An NMI; {@code userReadProbability} travels with it (a perf NMI that may walk user memory). */
        void nmi(double userReadProbability);

        void interrupt(int vector);
    }

    private final Recorder rec;
    private final Counters counters;

    private boolean ifFlag;
    private boolean stiShadow;
    private long cr2;
    private boolean hlt;
    private boolean nmiBlocked;
    /** NMIs pending delivery (0 to 2), oldest first, each with what travels with it. */
    private int nmiPending;
    private final double[] nmiPendingUserRead = new double[2];
    private final long[] irr = new long[4];
    private boolean lapicEnabled;
    private PendingException pending;
    /** CR0.PG is 0 while the vCPU is in SMM (guest.smi). */
    private boolean inSmm;
    private boolean smiPending;
    /** The #VE design: the information area of each nesting level (reason, token), 0 when consumed. */
    private final long[] veInfo = new long[8];
    private String shutdown;

    /** @param lapicEnabled whether the LAPIC is software-enabled from the start (guest.lapic-enable-delay) */
    public X86Cpu(Recorder rec, Counters counters, boolean lapicEnabled) {
        this.rec = rec;
        this.counters = counters;
        this.lapicEnabled = lapicEnabled;
    }

    // ------------------------------------------------------------------ IF, shadow, CR2, HLT

    public boolean interruptFlag() {
        return ifFlag;
    }

    /** CLI, or IF restored from a saved context. */
    public void interruptFlag(boolean on) {
        ifFlag = on;
    }

    /** STI: IF=1, and if it was 0 the next micro-op runs in the STI shadow. */
    public void sti() {
        if (!ifFlag) {
            stiShadow = true;
        }
        ifFlag = true;
    }

    public boolean stiShadow() {
        return stiShadow;
    }

    /** The shadow lasts through exactly one micro-op, and does not survive a task switch. */
    public void endShadow() {
        stiShadow = false;
    }

    /** {@code interrupt_allowed()}: IF=1 and no STI/MOV-SS shadow. */
    public boolean interruptAllowed() {
        return ifFlag && !stiShadow;
    }

    public long cr2() {
        return cr2;
    }

    public void cr2(long value) {
        cr2 = value;
    }

    public void halt() {
        hlt = true;
    }

    public boolean halted() {
        return hlt;
    }

    // ------------------------------------------------------------------ NMI, LAPIC, SMM

    /**
     * An NMI is asserted. While none is in progress two can be pending (the one to deliver and
     * one latched behind it); while NMIs are blocked, one (the latch); a further one is lost.
     */
    public void assertNmi(double userReadProbability) {
        int limit = nmiBlocked ? 1 : 2;
        if (nmiPending < limit) {
            nmiPendingUserRead[nmiPending++] = userReadProbability;
        } else {
            counters.inc(Counter.NMIS_LOST);
        }
    }

    /** NMIs waiting for delivery (0 to 2). */
    public int nmisPending() {
        return nmiPending;
    }

    public boolean nmiBlocked() {
        return nmiBlocked;
    }

    /** RSM restores the NMI blocking of before SMM entry. */
    public void nmiBlocked(boolean blocked) {
        nmiBlocked = blocked;
    }

    /** A fixed interrupt at the LAPIC: into IRR, unless the LAPIC is software-disabled (§4(v) 2). */
    public void raiseIrq(int vector) {
        if (!lapicEnabled) {
            rec.event(TraceEvent.LAPIC_DROPS_VECTOR, vector);
            return;
        }
        long bit = 1L << vector;
        if (vector == Vector.ASYNC_PF && (irr[vector >>> 6] & bit) != 0) {
            // A faithful host raises it only after the guest consumed the slot, i.e. after delivery.
            rec.finding(FindingKind.IRR_COALESCED_LOSS, "page-ready interrupt raised while the previous one was still"
                    + " pending in IRR: one delivery for two page-readies (§4(iv))");
        }
        irr[vector >>> 6] |= bit;
    }

    public boolean irrPending(int vector) {
        return (irr[vector >>> 6] & (1L << vector)) != 0;
    }

    public boolean lapicEnabled() {
        return lapicEnabled;
    }

    /** The guest sets the SPIV enable bit. */
    public void enableLapic() {
        lapicEnabled = true;
    }

    public void smi() {
        smiPending = true;
    }

    public boolean inSmm() {
        return inSmm;
    }

    /** SMM entry (CR0.PG=0) or RSM (CR0.PG=1). */
    public void smm(boolean in) {
        inSmm = in;
    }

    /** The #VE design: the CPU stores the exception's information in its nesting level's area. */
    public void storeVeInfo(int level, long info) {
        veInfo[Math.min(level, veInfo.length - 1)] = info;
    }

    /** The #VE handler reads and clears its own level's area. */
    public long takeVeInfo(int level) {
        int l = Math.min(level, veInfo.length - 1);
        long info = veInfo[l];
        veInfo[l] = 0;
        return info;
    }

    // ------------------------------------------------------------------ exceptions

    /** Raises a #GP (error code 0); with an exception pending, a double fault. */
    public void raiseGeneralProtection(Delivery delivery) {
        raiseException(Vector.GP, 0, 0, delivery, false);
    }

    /** Raises a #PF; a second exception while one is pending is #DF, a third a triple fault. */
    public void raisePageFault(long address, Delivery delivery) {
        raiseException(Vector.PF, address, 0, delivery, false);
    }

    /** Raises an exception; a second one while one is pending is #DF, a third a triple fault. */
    public void raiseException(int vector, long address, long errorCode, Delivery delivery, boolean vmExit) {
        if (pending == null) {
            pending = new PendingException(vector, address, errorCode, delivery, vmExit);
        } else if (pending.vector() == Vector.DF) {
            rec.finding(FindingKind.TRIPLE_FAULT, name(vector) + " (" + delivery
                    + ") while a double fault was pending: the guest is dead");
            shutdown = "triple fault";
        } else {
            rec.finding(FindingKind.DOUBLE_FAULT, name(vector) + " (" + delivery + ") while " + name(pending.vector())
                    + " (" + pending.delivery() + ") was pending delivery");
            pending = new PendingException(Vector.DF, 0, 0, pending.delivery(), false);
        }
    }

    public boolean exceptionPending() {
        return pending != null;
    }

    /**
     * An exception KVM itself injected is pending (an async #PF). A genuine guest #PF is raised
     * and delivered by the CPU without an exit in between, so no host code ever sees it pending.
     */
    public boolean injectedExceptionPending() {
        return pending != null && pending.delivery().isAsync();
    }

    /** Drops the pending exception (the #DF guard of 4.15, §2.1 step 5); returns what it was, or null. */
    public Delivery cancelPendingException() {
        if (pending == null) {
            return null;
        }
        Delivery d = pending.delivery();
        pending = null;
        return d;
    }

    /** The shutdown reason once the CPU is dead (a triple fault), else null. */
    public String shutdown() {
        return shutdown;
    }

    // ------------------------------------------------------------------ delivery

    /** Where the next delivery pushes its frame (DESIGN §1.2): guest memory the host may have swapped out. */
    public enum FrameStack {
        /** Nothing to deliver, or nothing pushed: SMM saves state to SMRAM, a #PF VM exit enters L1. */
        NONE,
        /** The interrupted task's kernel stack: exceptions and interrupts. */
        TASK,
        /** The CPU's IST stack: NMI and #DF (reference §1.8: on x86-64 NMI uses an IST stack, #PF does not). */
        IST
    }

    /** Where the event {@link #deliverNext} would deliver now pushes its frame; no state changes. */
    public FrameStack nextFrameStack() {
        if (pending != null) {
            return pending.vmExit() || (inSmm && pending.delivery().isAsync()) ? FrameStack.NONE
                    : pending.vector() == Vector.DF ? FrameStack.IST : FrameStack.TASK;
        }
        if (inSmm || smiPending) {
            return FrameStack.NONE;
        }
        if (nmiPending > 0 && !nmiBlocked && !stiShadow) {
            return FrameStack.IST;
        }
        return ifFlag && !stiShadow && irrAny() ? FrameStack.TASK : FrameStack.NONE;
    }

    /** Something can be delivered at this boundary (it would also end a HLT or a synthetic halt). */
    public boolean deliverable() {
        return pending != null || (smiPending && !inSmm) || (!inSmm && !stiShadow
                && ((nmiPending > 0 && !nmiBlocked) || (ifFlag && irrAny())));
    }

    /** Delivers the highest-priority event that can be delivered now; false if none can. */
    public boolean deliverNext(Idt idt) {
        if (pending != null) {
            PendingException p = pending;
            pending = null;
            if (p.vector() == Vector.DF) {
                idt.doubleFault();
            } else if (inSmm && p.delivery().isAsync()) {
                // Before 2022 the host injected with CR0.PG=0: SMM code has no handler for it [D].
                rec.finding(FindingKind.TRIPLE_FAULT, "async " + p.delivery() + " injected while CR0.PG=0 (in SMM),"
                        + " where no guest handler exists: shutdown (§2.0 6.4, §4(v) 1)");
                shutdown = "triple fault";
            } else if (p.vmExit()) {
                idt.pageFaultVmExit(p);
            } else if (p.vector() == Vector.VE) {
                idt.virtualizationException(p);
            } else if (p.vector() == Vector.GP) {
                idt.generalProtection(p);
            } else {
                cr2 = p.cr2();
                idt.pageFault(p);
            }
            return true;
        }
        if (smiPending && !inSmm) {
            smiPending = false;
            idt.smi();
            return true;
        }
        if (inSmm) {
            // SMM blocks NMIs and interrupts until RSM.
            return false;
        }
        if (nmiPending > 0 && !nmiBlocked && !stiShadow) {
            double userRead = nmiPendingUserRead[0];
            nmiPendingUserRead[0] = nmiPendingUserRead[1];
            nmiPending--;
            nmiBlocked = true;
            idt.nmi(userRead);
            return true;
        }
        if (ifFlag && !stiShadow && irrAny()) {
            int vector = irrHighest();
            irr[vector >>> 6] &= ~(1L << vector);
            idt.interrupt(vector);
            return true;
        }
        return false;
    }

    /** The CPU enters a handler: returns the interrupted IF (pushed in RFLAGS), clears IF, ends a HLT. */
    public boolean enterHandler() {
        boolean saved = ifFlag;
        ifFlag = false;
        hlt = false;
        return saved;
    }

    /** IRET: IF from the frame; any IRET ends NMI blocking, also one from a #PF inside the NMI handler (§4(vii)). */
    public void iret(boolean savedIf) {
        ifFlag = savedIf;
        nmiBlocked = false;
    }

    private static String name(int vector) {
        return switch (vector) {
            case Vector.PF -> "#PF";
            case Vector.GP -> "#GP";
            case Vector.VE -> "#VE";
            default -> "vector " + vector;
        };
    }

    private boolean irrAny() {
        return (irr[0] | irr[1] | irr[2] | irr[3]) != 0;
    }

    private int irrHighest() {
        for (int w = 3; w >= 0; w--) {
            if (irr[w] != 0) {
                return w * 64 + 63 - Long.numberOfLeadingZeros(irr[w]);
            }
        }
        return -1;
    }
}
