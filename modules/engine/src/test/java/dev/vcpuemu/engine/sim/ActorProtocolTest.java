package dev.vcpuemu.engine.sim;

import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.guest.SleeperTable;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.memory.AtomicHostMemory;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.stats.LatencySink;
import dev.vcpuemu.model.stats.TimingSink;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.vcpu.Vcpu;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each actor's protocol against probes: what it answers to a tick, what it sends where.
 * One actor system per class (PER_CLASS), shut down after all tests.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ActorProtocolTest {
    private final ActorTestKit kit = ActorTestKit.create();

    @AfterAll
    void shutdown() {
        kit.shutdownTestKit();
    }

    @Test
    void pagingWorkerAnswersOnlyInTheQuantumWhereTheLatencyFallsDue() {
        Settings s = TestSettings.legacy().swapIn(100_000).build();
        AtomicHostMemory memory = new AtomicHostMemory(8);
        TestProbe<TimeKeeper.Command> tk = kit.createTestProbe();
        TestProbe<VcpuActor.Command> vcpu = kit.createTestProbe();
        ActorRef<PagingWorker.Command> worker = kit.spawn(PagingWorker.create("paging-worker-t", s, memory, tk.ref(), LatencySink.NONE, null));
        WorkItem item = new WorkItem(0, 0x1000, 3, false, true, 0, 0);

        worker.tell(new PagingWorker.Start(item, vcpu.ref()));
        worker.tell(new PagingWorker.Tick(50_000));
        assertEquals(TimeKeeper.Done.of(100_000, false), tk.receiveMessage(),
                "not due yet: the worker names the completion's due time so empty quanta can be skipped");
        vcpu.expectNoMessage(Duration.ofMillis(100));
        assertFalse(memory.resident(3));

        worker.tell(new PagingWorker.Tick(150_000));
        VcpuActor.WorkDone done = vcpu.expectMessageClass(VcpuActor.WorkDone.class);
        assertEquals(item, done.item());
        assertEquals(100_000, done.dueNanos());
        assertTrue(memory.resident(3), "the frame is resident before the vCPU hears of it");
        tk.expectMessage(TimeKeeper.Done.of(150_000, false));

        worker.tell(new PagingWorker.Tick(200_000));
        tk.expectMessage(TimeKeeper.Done.of(Long.MAX_VALUE, true));
    }

    @Test
    void nmiSourceAssertsEveryIntervalOnEachTargetWithinTheQuantum() {
        TestProbe<TimeKeeper.Command> tk = kit.createTestProbe();
        TestProbe<VcpuActor.Command> a = kit.createTestProbe();
        TestProbe<VcpuActor.Command> b = kit.createTestProbe();
        var source = new Settings.NmiSource("perf", List.of(), 10_000, 0.0, 0.25);
        ActorRef<NmiSource.Command> nmi = kit.spawn(NmiSource.create("nmi-test", source, 7, List.of(a.ref(), b.ref()), tk.ref()));

        nmi.tell(new NmiSource.Tick(100_000));
        tk.expectMessage(TimeKeeper.Done.of(100_000, false));
        for (TestProbe<VcpuActor.Command> target : List.of(a, b)) {
            List<VcpuActor.Command> got = target.receiveSeveralMessages(10);
            long previous = -1;
            for (VcpuActor.Command c : got) {
                VcpuActor.Nmi n = (VcpuActor.Nmi) c;
                assertTrue(n.dueNanos() >= 0 && n.dueNanos() < 100_000, "due inside the quantum: " + n.dueNanos());
                if (previous < 0) {
                    assertTrue(n.dueNanos() < 10_000, "the first NMI falls in the first interval (random phase)");
                } else {
                    assertEquals(10_000, n.dueNanos() - previous, "without jitter, exactly one interval apart");
                }
                assertEquals(0.25, n.userReadProbability());
                previous = n.dueNanos();
            }
            target.expectNoMessage(Duration.ofMillis(50));
        }
    }

    @Test
    void reclaimerEvictsDownToTheResidentLimit() {
        Settings s = TestSettings.legacy().hostMemory(1, 0.5, 0).build();
        AtomicHostMemory memory = new AtomicHostMemory(100);
        for (int g = 0; g < 100; g++) {
            memory.makeResident(g);
        }
        TestProbe<TimeKeeper.Command> tk = kit.createTestProbe();
        ActorRef<Reclaimer.Command> reclaimer = kit.spawn(Reclaimer.create("reclaimer", s, memory, tk.ref()));
        reclaimer.tell(new Reclaimer.Tick(20_000));
        tk.expectMessage(TimeKeeper.Done.PASSIVE);
        assertEquals(50, memory.residentCount());
    }

    @Test
    void vcpuRunsItsQuantumSendsWorkToThePoolAndReportsDone() {
        Settings s = TestSettings.legacy().tasks(2).workingSet(8).mappedPages(8).engine(1_000_000, 50).build();
        AtomicHostMemory memory = new AtomicHostMemory(Vcpu.framesPerVcpu(s));
        TestProbe<TimeKeeper.Command> tk = kit.createTestProbe();
        TestProbe<StatsCollector.Command> stats = kit.createTestProbe();
        List<TestProbe<PagingWorker.Command>> pool = List.of(kit.createTestProbe(), kit.createTestProbe());
        List<ActorRef<PagingWorker.Command>> refs = new ArrayList<>();
        pool.forEach(p -> refs.add(p.ref()));
        ActorRef<VcpuActor.Command> vcpu = kit.spawn(
                VcpuActor.create("vcpu-0", 0, 0, s, memory, new SleeperTable(), refs, tk.ref(), stats.ref(), null, LatencySink.NONE, TimingSink.NONE));
        vcpu.tell(new VcpuActor.Wire(List.of(vcpu)));

        vcpu.tell(new VcpuActor.Tick(200_000, true));
        TimeKeeper.Done done = (TimeKeeper.Done) tk.receiveMessage(Duration.ofSeconds(10));
        assertNotNull(done.stats(), "stats were asked for");
        assertTrue(done.stats().get(Counter.MICRO_OPS) > 0);
        long issued = done.stats().get(Counter.TOKENS_ISSUED);
        assertTrue(issued > 0, "every frame starts swapped out, so user accesses take async faults");

        int starts = 0;
        for (TestProbe<PagingWorker.Command> p : pool) {
            for (PagingWorker.Command c : p.receiveSeveralMessages(expectedStarts(pool.indexOf(p), pool.size(), issued))) {
                WorkItem item = ((PagingWorker.Start) c).item();
                assertEquals(VcpuActor.route(item.token(), pool.size()), pool.indexOf(p), "routed by token");
                starts++;
            }
        }
        assertEquals(issued, starts);

        vcpu.tell(new VcpuActor.Freeze(stats.ref()));
        StatsCollector.Frozen frozen = stats.expectMessageClass(StatsCollector.Frozen.class);
        assertEquals(issued, frozen.facts().get("tokensOutstanding"), "no completion was sent back");
    }

    /** Routing is a pure function of the token, and vCPU 0's tokens are (id << 12) for id = 1, 2, … */
    private static int expectedStarts(int worker, int workers, long issued) {
        int n = 0;
        for (int id = 1; id <= issued; id++) {
            if (VcpuActor.route(id << 12, workers) == worker) {
                n++;
            }
        }
        return n;
    }
}
