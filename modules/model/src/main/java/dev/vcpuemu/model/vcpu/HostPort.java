package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.cpu.Vector;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.guest.program.Frame;
import dev.vcpuemu.model.guest.program.Routine;
import dev.vcpuemu.model.host.HostObserver;
import dev.vcpuemu.model.host.VcpuPort;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.stats.LatencyKind;
import dev.vcpuemu.model.trace.Recorder;
import dev.vcpuemu.model.trace.TraceEvent;
import dev.vcpuemu.model.truth.Delivery;

/**
 * The vCPU as its host half sees it: the CPU state KVM consults and the events it injects
 * ({@link VcpuPort}), and where the host's observations go ({@link HostObserver}): the ledger,
 * the latency histograms and the vCPU's events. An injection also tells the ledger what it
 * really is.
 */
final class HostPort implements VcpuPort, HostObserver {
    private final Vcpu v;
    private final Recorder rec;

    HostPort(Vcpu v, Recorder rec) {
        this.v = v;
        this.rec = rec;
    }

    // ------------------------------------------------------------------ VcpuPort

    @Override
    public long now() {
        return v.now;
    }

    @Override
    public boolean interruptAllowed() {
        return v.cpu.interruptAllowed();
    }

    @Override
    public boolean exceptionPending() {
        return v.cpu.exceptionPending();
    }

    @Override
    public boolean eventNeedsReinjection() {
        return v.eventNeedsReinjection;
    }

    @Override
    public boolean injectedExceptionPending() {
        return v.cpu.injectedExceptionPending();
    }

    @Override
    public int cpl() {
        Frame top = v.kernel.top();
        return top == null ? 0 : top.cplSeenByHost();
    }

    @Override
    public boolean guestMode() {
        Frame top = v.kernel.top();
        return top != null && top.routine == Routine.L2_GUEST;
    }

    @Override
    public boolean pagingEnabled() {
        return !v.cpu.inSmm();
    }

    @Override
    public boolean lapicEnabled() {
        return v.cpu.lapicEnabled();
    }

    @Override
    public void injectPageFault(long cr2, Delivery delivery) {
        boolean notPresent = delivery.kind == Delivery.Kind.NOT_PRESENT;
        if (notPresent) {
            v.truth.notPresentInjected(delivery);
        }
        boolean vmExit = guestMode();
        v.event(vmExit
                ? (notPresent ? TraceEvent.HOST_INJECT_NOT_PRESENT_VM_EXIT : TraceEvent.HOST_INJECT_PAGE_READY_VM_EXIT)
                : (notPresent ? TraceEvent.HOST_INJECT_NOT_PRESENT : TraceEvent.HOST_INJECT_PAGE_READY),
                delivery.token & 0xFFFFFFFFL);
        v.cpu.raiseException(Vector.PF, cr2, 0, delivery, vmExit);
    }

    @Override
    public void injectTaggedPageFault(long cr2, long errorCode, Delivery delivery) {
        v.truth.notPresentInjected(delivery);
        v.event(TraceEvent.HOST_INJECT_NOT_PRESENT_ERROR_CODE, delivery.token & 0xFFFFFFFFL);
        v.cpu.raiseException(Vector.PF, cr2, errorCode, delivery, false);
    }

    @Override
    public void injectVirtualizationException(int reason, int token, Delivery delivery) {
        v.truth.notPresentInjected(delivery);
        v.event(TraceEvent.HOST_INJECT_NOT_PRESENT_VE, token & 0xFFFFFFFFL);
        v.cpu.raiseException(Vector.VE, 0, ((long) reason << 32) | (token & 0xFFFFFFFFL), delivery, false);
    }

    @Override
    public void cancelPendingException() {
        Delivery d = v.cpu.cancelPendingException();
        if (d != null) {
            v.truth.injectionCancelled(d);
            v.event(TraceEvent.PENDING_PF_CANCELLED, d.token & 0xFFFFFFFFL);
        }
    }

    @Override
    public void raiseIrq(int vector) {
        v.cpu.raiseIrq(vector);
    }

    @Override
    public void startWork(WorkItem item) {
        v.out.startWork(item);
    }

    @Override
    public boolean pageReadyElsewhere(WorkItem item) {
        if (v.vcpus < 2) {
            return false;
        }
        v.out.pageReadyElsewhere((v.id + 1) % v.vcpus, item);
        return true;
    }

    // ------------------------------------------------------------------ HostObserver

    @Override
    public void tokenCompleted(int token) {
        v.truth.tokenCompleted(token);
    }

    @Override
    public void pageReadySent(WorkItem item, int token, long atNanos) {
        if (item.notPresentInjected()) {
            v.latencies.record(LatencyKind.NOT_PRESENT_TO_PAGE_READY, atNanos - item.issuedAtNanos());
        }
        v.truth.pageReadySent(token, true);
    }

    @Override
    public void pageReadySuppressed(int token) {
        v.truth.pageReadySent(token, false);
    }

    @Override
    public void tokenFlushed(int token) {
        v.truth.tokenFlushed(token);
    }

    @Override
    public void pageReadyOverwritten(int token) {
        v.truth.pageReadyOverwritten(token);
    }

    @Override
    public void latency(LatencyKind kind, long nanos) {
        v.latencies.record(kind, nanos);
    }

    @Override
    public void event(TraceEvent what, long arg) {
        v.event(what, arg);
    }

    @Override
    public void finding(FindingKind kind, String detail) {
        rec.finding(kind, detail);
    }
}
