package dev.vcpuemu.model.guest.kernel;

import dev.vcpuemu.model.cpu.PendingException;
import dev.vcpuemu.model.cpu.Vector;
import dev.vcpuemu.model.cpu.X86Cpu;
import dev.vcpuemu.model.guest.program.ApfEra;
import dev.vcpuemu.model.guest.program.ApfHandler;
import dev.vcpuemu.model.guest.program.Frame;
import dev.vcpuemu.model.guest.program.GeneralProtection;
import dev.vcpuemu.model.guest.program.L1PageFaultExit;
import dev.vcpuemu.model.guest.program.NmiHandler;
import dev.vcpuemu.model.guest.program.PageReadyIrq;
import dev.vcpuemu.model.guest.program.ReschedIrq;
import dev.vcpuemu.model.guest.program.Smm;
import dev.vcpuemu.model.guest.program.TimerIrq;
import dev.vcpuemu.model.guest.program.VirtualizationException;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.trace.TraceEvent;
import dev.vcpuemu.model.truth.Delivery;

/**
 * The guest's IDT: which handler the CPU enters for each event it delivers (vector 14 is the
 * era's #PF handler, 0xF3 the page-ready interrupt), and the entry itself: the handler's frame
 * pushed on the running task's stack with what the CPU saved (the interrupted IF and CPL).
 * For KVM as L1 a #PF VM exit enters its exit handler the same way (reference §2.4).
 */
final class InterruptTable implements X86Cpu.Idt {
    private final GuestKernel kernel;
    private final ApfEra era;

    InterruptTable(GuestKernel kernel, ApfEra era) {
        this.kernel = kernel;
        this.era = era;
    }

    @Override
    public void doubleFault() {
        kernel.panic("double fault");
    }

    @Override
    public void generalProtection(PendingException p) {
        enter(new GeneralProtection(), p);
        kernel.rec().event(TraceEvent.DELIVER_GP, p.delivery().address);
    }

    @Override
    public void pageFault(PendingException p) {
        enter(era.pageFaultHandler(), p);
        kernel.rec().event(p.delivery().isAsync() ? TraceEvent.DELIVER_ASYNC_PAGE_FAULT : TraceEvent.DELIVER_PAGE_FAULT,
                p.cr2());
    }

    @Override
    public void pageFaultVmExit(PendingException p) {
        enter(new L1PageFaultExit(p.cr2()), p);
        kernel.counters().inc(Counter.PF_VM_EXITS);
        kernel.rec().event(TraceEvent.PF_VM_EXIT, p.cr2());
    }

    @Override
    public void virtualizationException(PendingException p) {
        enter(new VirtualizationException(), p);
        kernel.cpu().storeVeInfo(kernel.trapDepth(), p.errorCode());
        kernel.rec().event(TraceEvent.DELIVER_VE, p.delivery().token & 0xFFFFFFFFL);
    }

    @Override
    public void smi() {
        enter(new Smm(), null);
        kernel.rec().event(TraceEvent.DELIVER_SMI, 0);
    }

    @Override
    public void nmi(double userReadProbability) {
        if (kernel.top() instanceof ApfHandler h && h.inWindow()) {
            // Physics, not a finding: the NMI landed before the handler read its word (§4(i) step 3).
            kernel.counters().inc(h.delivery().kind == Delivery.Kind.NOT_PRESENT
                    ? Counter.NMIS_IN_NOT_PRESENT_WINDOW : Counter.NMIS_IN_PAGE_READY_WINDOW);
        }
        kernel.nmi().delivered(userReadProbability);
        kernel.counters().inc(Counter.NMIS_DELIVERED);
        enter(new NmiHandler(), null);
        kernel.rec().event(TraceEvent.DELIVER_NMI, 2);
    }

    @Override
    public void interrupt(int vector) {
        enter(vector == Vector.TIMER ? new TimerIrq() : vector == Vector.RESCHEDULE ? new ReschedIrq()
                : new PageReadyIrq(), null);
        kernel.rec().event(TraceEvent.DELIVER_IRQ, vector);
    }

    /** The CPU enters {@code handler}: IF saved and cleared, HLT ended, the frame pushed. */
    private void enter(Frame handler, PendingException p) {
        handler.entered(kernel.cpu().enterHandler(), kernel.top(), p == null ? null : p.delivery(),
                p == null ? 0 : p.errorCode());
        kernel.push(handler);
    }
}
