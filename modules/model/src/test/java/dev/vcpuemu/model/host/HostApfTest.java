package dev.vcpuemu.model.host;

import dev.vcpuemu.model.abi.Apf;
import dev.vcpuemu.model.abi.Msr;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.settings.Settings.HostEra;
import dev.vcpuemu.model.stats.Counters;
import dev.vcpuemu.model.truth.Delivery;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The host half alone ({@link HostApf}) against a scripted CPU port: the vCPU state KVM
 * consults is set directly, so each of §2.0's conditions can be varied on its own.
 */
class HostApfTest {

    /** A CPU whose IF/shadow, pending exception and CPL the test sets. */
    private static final class Port implements VcpuPort {
        boolean interruptAllowed = true;
        boolean exceptionPending;
        boolean reinjection;
        int cpl = 3;
        boolean paging = true;
        final List<Delivery> injected = new ArrayList<>();
        final List<Integer> irqs = new ArrayList<>();
        final List<WorkItem> works = new ArrayList<>();

        @Override
        public long now() {
            return 0;
        }

        @Override
        public boolean interruptAllowed() {
            return interruptAllowed;
        }

        @Override
        public boolean exceptionPending() {
            return exceptionPending;
        }

        @Override
        public boolean eventNeedsReinjection() {
            return reinjection;
        }

        @Override
        public int cpl() {
            return cpl;
        }

        @Override
        public void injectPageFault(long cr2, Delivery delivery) {
            injected.add(delivery);
            exceptionPending = true;
        }

        /** The CPU delivers the pending exception. */
        void deliver() {
            exceptionPending = false;
        }

        @Override
        public boolean pagingEnabled() {
            return paging;
        }

        @Override
        public void raiseIrq(int vector) {
            irqs.add(vector);
        }

        @Override
        public void startWork(WorkItem item) {
            works.add(item);
        }
    }

    private static HostApf enabledHost(HostEra era, Port port, int vcpuId) {
        HostApf host = new HostApf(era, vcpuId, port, new Counters());
        if (!HostRules.of(era).pageReadyAsPageFault()) {
            assertTrue(host.wrmsr(Msr.ASYNC_PF_INT, 0xF3));
            assertTrue(host.wrmsr(Msr.ASYNC_PF_EN, Msr.EN_ENABLED | Msr.EN_DELIVERY_AS_INT));
        } else {
            assertTrue(host.wrmsr(Msr.ASYNC_PF_EN, Msr.EN_ENABLED));
        }
        // Deliver and consume the wake-all of the enable.
        host.onEntry();
        port.deliver();
        port.injected.clear();
        port.irqs.clear();
        host.area().readAndClearWord();
        host.area().clearToken();
        host.wrmsr(Msr.ASYNC_PF_ACK, 1);
        assertEquals(0, host.queued());
        return host;
    }

    @ParameterizedTest
    @EnumSource(HostEra.class)
    void behaviour03_faultInStiShadowOrWithIfZeroIsSynchronous(HostEra era) {
        // reference §5 behaviour 3, §2.0 step 2 (interrupt_allowed: IF=1 and no STI/MOV-SS shadow) and step 3
        Port port = new Port();
        HostApf host = enabledHost(era, port, 0);
        port.interruptAllowed = false;
        assertEquals(HostApf.Decision.SYNCHRONOUS, host.onNonResidentFault(100));
        assertTrue(port.injected.isEmpty());
        assertTrue(port.works.isEmpty());
        assertFalse(host.outstanding(100));
        assertFalse(host.halted());
        port.interruptAllowed = true;
        assertEquals(HostApf.Decision.NOT_PRESENT_INJECTED, host.onNonResidentFault(100), "the same fault with IF=1 is async");
    }

    @ParameterizedTest
    @EnumSource(value = HostEra.class, names = {"LEGACY_EARLY", "LEGACY_DF_GUARD"}, mode = EnumSource.Mode.EXCLUDE)
    void behaviour04_faultWithPendingExceptionIsSynchronous(HostEra era) {
        // reference §5 behaviour 4, §2.0 step 2 (no exception pending, in kvm_can_do_async_pf from 2019), §1.8
        Port port = new Port();
        HostApf host = enabledHost(era, port, 0);
        port.exceptionPending = true;
        assertEquals(HostApf.Decision.SYNCHRONOUS, host.onNonResidentFault(7));
        assertTrue(port.injected.isEmpty());
        assertTrue(port.works.isEmpty());
        assertEquals(0, host.queued());
    }

    @ParameterizedTest
    @EnumSource(HostEra.class)
    void behaviour04_faultDuringAnEventsDeliveryIsSynchronousInEveryEra(HostEra era) {
        // reference §5 behaviour 4, §2.0 step 2: kvm_event_needs_reinjection, checked by every era
        Port port = new Port();
        HostApf host = enabledHost(era, port, 0);
        port.reinjection = true;
        assertEquals(HostApf.Decision.SYNCHRONOUS, host.onNonResidentFault(7));
        assertTrue(port.injected.isEmpty());
        assertTrue(port.works.isEmpty());
        assertEquals(0, host.queued());
        port.reinjection = false;
        assertEquals(HostApf.Decision.NOT_PRESENT_INJECTED, host.onNonResidentFault(7), "the same fault otherwise");
    }

    @ParameterizedTest
    @EnumSource(value = HostEra.class, names = {"LEGACY_EARLY", "LEGACY_DF_GUARD", "LEGACY", "LEGACY_FIXED"})
    void noPageReadyIsInjectedOnTopOfAnEventBeingReinjected(HostEra era) {
        // reference §2.1 step 2: can_inject_async_page_present is kvm_can_do_async_pf, which refuses
        // while an event needs re-injection (§2.0 step 2), also in the eras blind to a pending exception
        Port port = new Port();
        HostApf host = enabledHost(era, port, 0);
        for (int gfn = 7; gfn <= 8; gfn++) {
            host.onNonResidentFault(gfn);
            port.deliver();
            host.area().readAndClearWord();
        }
        port.injected.clear();
        host.onWorkDone(port.works.get(0));
        host.onEntry();
        assertEquals(1, port.injected.size(), "the first page-ready");
        port.reinjection = true; // its delivery faulted on the stack: it will be injected again
        host.onWorkDone(port.works.get(1));
        host.onEntry();
        assertEquals(1, port.injected.size(), "no second #PF on the one being re-injected");
        port.reinjection = false;
        port.deliver();
        host.area().readAndClearWord();
        host.onEntry();
        assertEquals(2, port.injected.size(), "the second page-ready after the first was delivered");
    }

    @Test
    void behaviour12_legacyOnePageReadyPerEntryAndNoneOnAPendingException() {
        // reference §5 behaviour 12, §2.1 "Page ready (host)" steps 2 and 4, §4(iv)
        Port port = new Port();
        HostApf host = enabledHost(HostEra.LEGACY, port, 0);
        for (int gfn = 5; gfn < 8; gfn++) {
            assertEquals(HostApf.Decision.NOT_PRESENT_INJECTED, host.onNonResidentFault(gfn));
            port.deliver();
        }
        port.injected.clear();
        for (WorkItem w : port.works) {
            host.onWorkDone(w);
        }
        port.exceptionPending = true;
        host.onEntry();
        assertTrue(port.injected.isEmpty(), "nothing injected on top of a pending exception");
        port.deliver();
        List<Integer> tokens = new ArrayList<>();
        for (int entry = 0; entry < 3; entry++) {
            host.onEntry();
            assertEquals(1, port.injected.size(), "exactly one page-ready #PF per entry");
            tokens.add(port.injected.get(0).token);
            assertEquals(Apf.REASON_PAGE_READY, host.area().word());
            port.injected.clear();
            port.deliver();
            host.area().readAndClearWord();
        }
        assertEquals(port.works.stream().map(WorkItem::token).toList(), tokens, "in completion order");
        host.onEntry();
        assertTrue(port.injected.isEmpty());
        assertEquals(0, host.queued());
    }

    @Test
    void behaviour07_interruptHostNeverIssuesTokenZero() {
        // reference §5 behaviour 7 ("from HI-c no token equals 0"), §1.2 "token (>=5.17)", §4(ix)
        Port port = new Port();
        HostApf host = enabledHost(HostEra.INTERRUPT, port, 0);
        int apfs = (1 << 20) + 8;
        for (int i = 0; i < apfs; i++) {
            assertEquals(HostApf.Decision.NOT_PRESENT_INJECTED, host.onNonResidentFault(i & 0xFFFF));
            port.deliver();
            WorkItem w = port.works.get(0);
            port.works.clear();
            if (w.token() == 0) {
                fail("token 0 issued on vCPU 0 at APF number " + (i + 1));
            }
            assertEquals(0, w.token() & 0xFFF, "low 12 bits are the vCPU id");
            host.onWorkDone(w);
            host.onEntry();
            assertEquals(w.token(), host.area().token(), "page-ready for that token");
            host.area().clearToken();
            host.wrmsr(Msr.ASYNC_PF_ACK, 1);
        }
        port.injected.clear();
        assertEquals(0, host.queued());
    }

    @Test
    void behaviour07_legacyHostWrapsToTokenZeroOnVcpu0() {
        // reference §2.7 "Token 0 was possible until 5.17", §4(ix): a <=5.7 host has no HI-c guard
        Port port = new Port();
        HostApf host = enabledHost(HostEra.LEGACY, port, 0);
        int firstZero = -1;
        for (int i = 0; i < (1 << 20) + 8 && firstZero < 0; i++) {
            host.onNonResidentFault(i & 0xFFFF);
            port.deliver();
            WorkItem w = port.works.get(0);
            port.works.clear();
            if (w.token() == 0) {
                firstZero = i + 1;
            }
            host.onWorkDone(w);
            host.onEntry();
            port.deliver();
            port.injected.clear();
        }
        assertEquals(1 << 20, firstZero, "id << 12 wraps to 0 at the 2^20-th APF (id starts at 1)");
    }

    @Test
    void behaviour07_tokenFormat() {
        // reference §5 behaviour 7, §1.2 "token": (id++ << 12) | vcpu_id
        Port port = new Port();
        HostApf host = enabledHost(HostEra.INTERRUPT, port, 3);
        for (int gfn = 1; gfn <= 3; gfn++) {
            host.onNonResidentFault(gfn);
            port.deliver();
        }
        assertEquals(List.of(0x1003, 0x2003, 0x3003), port.works.stream().map(WorkItem::token).toList());
        assertEquals(List.of(0x1003L, 0x2003L, 0x3003L), port.injected.stream().map(d -> d.address).toList());
    }

    @Test
    void behaviour30_reservedBitWritesAreRefusedAndChangeNothing() {
        // reference §5 behaviour 30, §1.3: reserved EN bits per era, bit 3 without CPUID bit 14,
        // bit 2 without bit 10, PF_INT bits 63:8, and no in-kernel LAPIC.
        Port port = new Port();
        long gpa = 0x1000;
        record Case(HostEra era, long value, boolean accepted) {}
        for (Case c : List.of(
                new Case(HostEra.LEGACY_EARLY, gpa | 1 | (1L << 2), false),   // 0x3c: bit 2 did not exist (no CPUID bit 10)
                new Case(HostEra.LEGACY_EARLY, gpa | 1 | (1L << 1), true),
                new Case(HostEra.LEGACY, gpa | 1 | (1L << 2), true),          // 0x38 in 4.x-5.7
                new Case(HostEra.LEGACY, gpa | 1 | (1L << 3), false),         // bit 3 without CPUID bit 14
                new Case(HostEra.LEGACY_FIXED, gpa | 1 | (1L << 5), false),
                new Case(HostEra.INTERRUPT, gpa | 1 | (1L << 3), true),
                new Case(HostEra.INTERRUPT, gpa | 1 | (1L << 3) | (1L << 4), false), // 0x30 from 5.8
                new Case(HostEra.INTERRUPT, gpa | 1 | (1L << 5), false),
                new Case(HostEra.ERROR_CODE, gpa | 1 | (1L << 3) | (1L << 4), true),
                new Case(HostEra.ERROR_CODE, gpa | 1 | (1L << 5), false),
                new Case(HostEra.VE, gpa | 1 | (1L << 3) | (1L << 5), true),
                new Case(HostEra.VE, gpa | 1 | (1L << 4), false))) {
            HostApf host = new HostApf(c.era(), 0, port, new Counters());
            assertEquals(c.accepted(), host.wrmsr(Msr.ASYNC_PF_EN, c.value()), c.toString());
            assertEquals(c.accepted() ? c.value() : 0, host.msrEn(), "a refused write changes nothing: " + c);
        }
        HostApf host = new HostApf(HostEra.INTERRUPT, 0, port, new Counters());
        assertFalse(host.wrmsr(Msr.ASYNC_PF_INT, 0x1F3), "PF_INT bits 63:8");
        assertTrue(host.wrmsr(Msr.ASYNC_PF_INT, 0xF3));
        HostApf legacy = new HostApf(HostEra.LEGACY, 0, port, new Counters());
        assertFalse(legacy.wrmsr(Msr.ASYNC_PF_INT, 0xF3), "no INT MSR before 5.8");
        assertFalse(legacy.wrmsr(Msr.ASYNC_PF_ACK, 1), "no ACK MSR before 5.8");

        HostApf userspaceLapic = new HostApf(HostEra.INTERRUPT, 0, port, new Counters());
        userspaceLapic.inKernelLapic(false);
        assertFalse(userspaceLapic.wrmsr(Msr.ASYNC_PF_EN, gpa | 1 | (1L << 3)), "no in-kernel LAPIC: non-zero refused");
        assertTrue(userspaceLapic.wrmsr(Msr.ASYNC_PF_EN, 0), "zero accepted");
        assertFalse(userspaceLapic.wrmsr(Msr.ASYNC_PF_INT, 0xF3));
    }

    @ParameterizedTest
    @EnumSource(value = HostEra.class, names = {"INTERRUPT", "ERROR_CODE", "VE"})
    void from2022NoNotPresentIsInjectedWhilePagingIsOff(HostEra era) {
        // reference §2.0 step 6.4 (2022): outside guest mode, CR0.PG=0 makes the APF undeliverable
        Port port = new Port();
        HostApf host = enabledHost(era, port, 0);
        port.paging = false;
        assertEquals(HostApf.Decision.SYNTHETIC_HALT, host.onNonResidentFault(3));
        HostApf before = new HostApf(era, Settings.HostBugs.NONE, new Settings.HostFixes(true, true, false, true), 1, 0,
                port, HostObserver.NONE, new Counters());
        before.wrmsr(Msr.ASYNC_PF_INT, 0xF3);
        before.wrmsr(Msr.ASYNC_PF_EN, Msr.EN_ENABLED | Msr.EN_DELIVERY_AS_INT);
        assertEquals(HostApf.Decision.NOT_PRESENT_INJECTED, before.onNonResidentFault(3), "before 2022 it was injected");
    }
}
