package dev.vcpuemu.bench;

import dev.vcpuemu.model.abi.Msr;
import dev.vcpuemu.model.truth.Delivery;
import dev.vcpuemu.model.host.HostApf;
import dev.vcpuemu.model.host.HostRules;
import dev.vcpuemu.model.host.VcpuPort;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.settings.Settings.HostEra;
import dev.vcpuemu.model.stats.Counters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * KVM's decision at a guest access to a non-resident frame ({@link HostApf#onNonResidentFault},
 * reference §2.0), on the host half alone with a stand-in vCPU, for each era. It runs at every
 * such fault on the vCPU's thread, so it is on the interpreter's hot path under overcommit.
 *
 * <p>{@link #synchronous}: IF=0, the vCPU must block. {@link #syntheticHalt}: the frame is
 * already outstanding. {@link #asyncNotPresent}: a token is issued and a not-present #PF
 * injected; as the host keeps the token until its page-ready is sent (at most 64 per vCPU),
 * each operation also retires it the way the model does: the guest handler clears the word,
 * the worker completes, the next entry sends the page-ready and the guest consumes it (the
 * word on the legacy host; the token slot and the ACK on the interrupt host).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class HostDecisionBenchmark {
    private static final int GFN = 5;
    private static final int OUTSTANDING_GFN = 6;
    private static final int VECTOR = 0xF3;

    /** The two shipped protocols; the other eras share their fast paths. */
    @Param({"LEGACY", "INTERRUPT"})
    public HostEra era;

    private Cpu asyncCpu;
    private HostApf async;
    private HostApf halting;
    private HostApf blocked;

    /** The vCPU as the host sees it: user mode, interrupts as configured, nothing pending. */
    private static final class Cpu implements VcpuPort {
        private final boolean interruptsOn;
        WorkItem started;

        Cpu(boolean interruptsOn) {
            this.interruptsOn = interruptsOn;
        }

        @Override
        public long now() {
            return 0;
        }

        @Override
        public boolean interruptAllowed() {
            return interruptsOn;
        }

        @Override
        public boolean exceptionPending() {
            return false;
        }

        @Override
        public boolean eventNeedsReinjection() {
            return false;
        }

        @Override
        public int cpl() {
            return 3;
        }

        @Override
        public void injectPageFault(long cr2, Delivery delivery) {
        }

        @Override
        public void raiseIrq(int vector) {
        }

        @Override
        public void startWork(WorkItem item) {
            started = item;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        asyncCpu = new Cpu(true);
        async = enabledHost(asyncCpu);
        Cpu haltingCpu = new Cpu(true);
        halting = enabledHost(haltingCpu);
        expect(HostApf.Decision.NOT_PRESENT_INJECTED, halting.onNonResidentFault(OUTSTANDING_GFN));
        blocked = enabledHost(new Cpu(false));
        expect(HostApf.Decision.NOT_PRESENT_INJECTED, asyncNotPresent());
        expect(HostApf.Decision.SYNTHETIC_HALT, syntheticHalt());
        expect(HostApf.Decision.SYNCHRONOUS, synchronous());
        if (async.queued() != 0 || async.outstanding(GFN)) {
            throw new IllegalStateException("the async cycle left its token behind");
        }
    }

    @Benchmark
    public HostApf.Decision asyncNotPresent() {
        HostApf.Decision d = async.onNonResidentFault(GFN);
        async.area().readAndClearWord();
        async.onWorkDone(asyncCpu.started);
        async.onEntry();
        consumePageReady(async);
        return d;
    }

    @Benchmark
    public HostApf.Decision syntheticHalt() {
        return halting.onNonResidentFault(OUTSTANDING_GFN);
    }

    @Benchmark
    public HostApf.Decision synchronous() {
        return blocked.onNonResidentFault(GFN);
    }

    /** A host with APF enabled by the guest as at CPU bring-up, the enable's wake-all consumed. */
    private HostApf enabledHost(Cpu cpu) {
        HostApf host = new HostApf(era, 0, cpu, new Counters());
        if (HostRules.of(era).pageReadyAsPageFault()) {
            host.wrmsr(Msr.ASYNC_PF_EN, Msr.EN_ENABLED | Msr.EN_SEND_ALWAYS);
        } else {
            host.wrmsr(Msr.ASYNC_PF_INT, VECTOR);
            host.wrmsr(Msr.ASYNC_PF_EN, Msr.EN_ENABLED | Msr.EN_DELIVERY_AS_INT);
        }
        host.onEntry();
        consumePageReady(host);
        return host;
    }

    /** The guest takes the page-ready: the reason word on the legacy host, slot and ACK on the interrupt host. */
    private void consumePageReady(HostApf host) {
        if (HostRules.of(era).pageReadyAsPageFault()) {
            host.area().readAndClearWord();
        } else {
            host.area().clearToken();
            host.wrmsr(Msr.ASYNC_PF_ACK, 1);
        }
    }

    private static void expect(HostApf.Decision expected, HostApf.Decision actual) {
        if (expected != actual) {
            throw new IllegalStateException("expected " + expected + ", the host decided " + actual);
        }
    }
}
