package dev.vcpuemu.engine.sim;

import dev.vcpuemu.engine.det.Draws;
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
    void pagingWorkerAnswersAtOnceWithTheDueTimeOfTheSwapIn() {
        // DESIGN §3: the answer travels ahead of its due time; the vCPU makes the frame resident then.
        Settings s = TestSettings.legacy().swapIn(100_000).build();
        TestProbe<VcpuActor.Command> vcpu = kit.createTestProbe();
        ActorRef<PagingWorker.Command> worker = kit.spawn(PagingWorker.create("paging-worker-t", 0, s, LatencySink.NONE, null, Draws.OWN));
        WorkItem item = new WorkItem(0, 0x1000, 3, false, true, 0, 7_000);

        worker.tell(new PagingWorker.Start(item, vcpu.ref()));
        VcpuActor.WorkDone done = vcpu.expectMessageClass(VcpuActor.WorkDone.class);
        assertEquals(item, done.item());
        assertEquals(107_000, done.dueNanos(), "issued at 7 us, a fixed 100 us swap-in");
    }

    @Test
    void theSwapInLatencyIsAFunctionOfTheWorkItemNotOfTheWorker() {
        // With an exponential latency each draw differs; the same item gets the same one from any worker.
        Settings s = TestSettings.legacy().swapIn(new Settings.Latency(Settings.Latency.Distribution.EXPONENTIAL,
                200_000, 20_000, 2_000_000)).build();
        TestProbe<VcpuActor.Command> vcpu = kit.createTestProbe();
        ActorRef<PagingWorker.Command> a = kit.spawn(PagingWorker.create("paging-worker-a", 0, s, LatencySink.NONE, null, Draws.OWN));
        ActorRef<PagingWorker.Command> b = kit.spawn(PagingWorker.create("paging-worker-b", 0, s, LatencySink.NONE, null, Draws.OWN));
        List<Long> dues = new ArrayList<>();
        for (ActorRef<PagingWorker.Command> w : List.of(a, b, a)) {
            for (int token : new int[] {0x1000, 0x2000}) {
                w.tell(new PagingWorker.Start(new WorkItem(0, token, 3, false, true, 0, 5_000), vcpu.ref()));
                dues.add(vcpu.expectMessageClass(VcpuActor.WorkDone.class).dueNanos());
            }
        }
        assertEquals(List.of(dues.get(0), dues.get(1), dues.get(0), dues.get(1), dues.get(0), dues.get(1)), dues);
        assertTrue(!dues.get(0).equals(dues.get(1)), "another item, another draw: " + dues);
    }

    @Test
    void nmiSourceEmitsWhatFallsDueBeforeTheHorizonOnEachTarget() {
        TestProbe<TimeKeeper.Command> tk = kit.createTestProbe();
        TestProbe<VcpuActor.Command> a = kit.createTestProbe();
        TestProbe<VcpuActor.Command> b = kit.createTestProbe();
        var source = new Settings.NmiSource("perf", List.of(), 10_000, 0.0, 0.25);
        ActorRef<NmiSource.Command> nmi = kit.spawn(NmiSource.create("nmi-test", 0, 0, source, 7, List.of(a.ref(), b.ref()), tk.ref(),
                Draws.OWN));

        nmi.tell(new NmiSource.Emit(100_000, false));
        TimeKeeper.Done first = (TimeKeeper.Done) tk.receiveMessage();
        long firstDue = -1;
        for (TestProbe<VcpuActor.Command> target : List.of(a, b)) {
            List<VcpuActor.Command> got = target.receiveSeveralMessages(10);
            long previous = -1;
            for (VcpuActor.Command c : got) {
                VcpuActor.Nmi n = (VcpuActor.Nmi) c;
                assertTrue(n.dueNanos() >= 0 && n.dueNanos() < 100_000, "due before the horizon: " + n.dueNanos());
                if (previous < 0) {
                    assertTrue(n.dueNanos() < 10_000, "the first NMI falls in the first interval (random phase)");
                    firstDue = n.dueNanos();
                } else {
                    assertEquals(10_000, n.dueNanos() - previous, "without jitter, exactly one interval apart");
                }
                assertEquals(0.25, n.userReadProbability());
                previous = n.dueNanos();
            }
            target.expectNoMessage(Duration.ofMillis(50));
        }
        assertEquals(TimeKeeper.Done.of(firstDue, false), first,
                "the earliest NMI sent: its quantum must not be skipped, though its vCPUs may answer before it arrives");

        nmi.tell(new NmiSource.Emit(100_000, false));
        assertEquals(TimeKeeper.Done.of(firstDue + 100_000, false), tk.receiveMessage(),
                "nothing more before the horizon: the next NMI still to send");
        a.expectNoMessage(Duration.ofMillis(50));
        nmi.tell(new NmiSource.Emit(120_000, true));
        assertEquals(2, a.receiveSeveralMessages(2).size(), "the next span: two NMIs");
        TimeKeeper.Done sampled = (TimeKeeper.Done) tk.receiveMessage();
        assertEquals(2 * 12, sampled.stats().get(Counter.NMIS_SENT), "a progress sample's emit: 12 NMIs to each of 2 vCPUs");
        assertEquals(3, sampled.stats().get(Counter.MESSAGES), "and the three emits it received");
    }

    @Test
    void reclaimerEmitsItsChurnAheadAsTimedEvictionsOverTheVcpus() {
        // 50 evictions per virtual millisecond over the guest, a Poisson process: about 500 in 10 ms.
        Settings s = TestSettings.legacy().hostMemory(1, 0.5, 50).build();
        TestProbe<TimeKeeper.Command> tk = kit.createTestProbe();
        List<TestProbe<VcpuActor.Command>> vcpus = List.of(kit.createTestProbe(), kit.createTestProbe());
        ActorRef<Reclaimer.Command> reclaimer = kit.spawn(Reclaimer.create("reclaimer", 0, s,
                List.of(vcpus.get(0).ref(), vcpus.get(1).ref()), tk.ref(), Draws.OWN));
        reclaimer.tell(new Reclaimer.Emit(10_000_000, false));
        tk.expectMessage(TimeKeeper.Done.PASSIVE);
        int total = 0;
        for (TestProbe<VcpuActor.Command> v : vcpus) {
            long[] dues = v.expectMessageClass(VcpuActor.Evictions.class).dueNanos();
            for (int i = 0; i < dues.length; i++) {
                assertTrue(dues[i] >= 0 && dues[i] < 10_000_000, "before the horizon");
                assertTrue(i == 0 || dues[i] >= dues[i - 1], "ascending");
            }
            assertTrue(dues.length > 150, "both vCPUs get a share: " + dues.length);
            total += dues.length;
        }
        assertTrue(total > 400 && total < 600, "about 500: " + total);

        Settings none = TestSettings.legacy().hostMemory(1, 0.5, 0).build();
        TestProbe<VcpuActor.Command> idle = kit.createTestProbe();
        ActorRef<Reclaimer.Command> quiet = kit.spawn(Reclaimer.create("reclaimer-quiet", 0, none, List.of(idle.ref()), tk.ref(),
                Draws.OWN));
        quiet.tell(new Reclaimer.Emit(10_000_000, false));
        tk.expectMessage(TimeKeeper.Done.PASSIVE);
        idle.expectNoMessage(Duration.ofMillis(50));
        quiet.tell(new Reclaimer.Emit(20_000_000, true));
        TimeKeeper.Done sampled = (TimeKeeper.Done) tk.receiveMessage();
        assertEquals(2, sampled.stats().get(Counter.MESSAGES), "a progress sample's emit: the messages received so far");
        assertEquals(Long.MAX_VALUE, sampled.nextDueNanos());
    }

    @Test
    void vcpuRunsItsQuantumSendsWorkToThePoolAndReportsDoneOnlyOnceAnswered() {
        Settings s = TestSettings.legacy().tasks(2).workingSet(8).mappedPages(8).engine(1_000_000, 50).build();
        AtomicHostMemory memory = new AtomicHostMemory(Vcpu.framesPerVcpu(s));
        TestProbe<TimeKeeper.Command> tk = kit.createTestProbe();
        TestProbe<StatsCollector.Command> stats = kit.createTestProbe();
        List<TestProbe<PagingWorker.Command>> pool = List.of(kit.createTestProbe(), kit.createTestProbe());
        List<ActorRef<PagingWorker.Command>> refs = new ArrayList<>();
        pool.forEach(p -> refs.add(p.ref()));
        ActorRef<VcpuActor.Command> vcpu = kit.spawn(
                VcpuActor.create("vcpu-0", 0, 0, s, memory, new SleeperTable(), refs, tk.ref(), stats.ref(), null,
                        LatencySink.NONE, TimingSink.NONE));
        vcpu.tell(new VcpuActor.Wire(List.of(vcpu)));

        vcpu.tell(new VcpuActor.Tick(1_000_000, true));
        // Every frame starts swapped out: the kernel's stacks and pages fault in synchronously (100 us
        // each), then user accesses take async faults: work items go out, and the quantum's Done waits
        // until every one is answered.
        List<PagingWorker.Start> starts = new ArrayList<>();
        for (int w = 0; w < pool.size(); w++) {
            while (true) {
                PagingWorker.Start st;
                try {
                    st = pool.get(w).expectMessageClass(PagingWorker.Start.class, Duration.ofMillis(w == 0 && starts.isEmpty()
                            ? 10_000 : 300));
                } catch (AssertionError none) {
                    break;
                }
                assertEquals(w, VcpuActor.route(st.item().token(), pool.size()), "routed by token");
                starts.add(st);
            }
        }
        assertFalse(starts.isEmpty());
        tk.expectNoMessage(Duration.ofMillis(100));
        for (PagingWorker.Start st : starts) {
            st.replyTo().tell(new VcpuActor.WorkDone(st.item(), 10_000_000));
        }
        TimeKeeper.Done done = (TimeKeeper.Done) tk.receiveMessage(Duration.ofSeconds(10));
        assertNotNull(done.stats(), "stats were asked for");
        assertTrue(done.stats().get(Counter.MICRO_OPS) > 0);
        assertEquals(starts.size(), done.stats().get(Counter.TOKENS_ISSUED), "one work item per token issued");
        assertTrue(done.nextDueNanos() <= 10_000_000, "the next due input is known: " + done.nextDueNanos());

        vcpu.tell(new VcpuActor.Freeze(stats.ref()));
        StatsCollector.Frozen frozen = stats.expectMessageClass(StatsCollector.Frozen.class);
        assertEquals((long) starts.size(), frozen.facts().get("tokensOutstanding"), "no completion is due yet");
        assertEquals((long) starts.size(), frozen.facts().get("completionsQueued"));
    }

}
