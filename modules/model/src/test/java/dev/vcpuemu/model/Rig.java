package dev.vcpuemu.model;

import dev.vcpuemu.model.finding.Finding;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.guest.SleeperNode;
import dev.vcpuemu.model.guest.SleeperTable;
import dev.vcpuemu.model.guest.program.Frame;
import dev.vcpuemu.model.guest.program.Routine;
import dev.vcpuemu.model.host.HostRules;
import dev.vcpuemu.model.guest.program.Layout;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.memory.AtomicHostMemory;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.vcpu.Vcpu;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A scripted single-vCPU test rig on the pure model: one {@link Vcpu} with a seeded
 * {@link SplittableRandom}, an {@link AtomicHostMemory} (every frame starts non-resident), one
 * {@link SleeperTable} and a recording {@link Vcpu.Outbox}. Nothing here reads a clock or
 * starts a thread; the test plays the paging worker and the NMI source.
 */
public final class Rig {
    public static final int MAX_STEPS = 1_000_000;

    public final Settings settings;
    public final AtomicHostMemory memory;
    public final SleeperTable sleepers;
    public final Vcpu vcpu;
    public final List<WorkItem> started = new ArrayList<>();
    public final List<int[]> remoteWakes = new ArrayList<>();
    /** Page-ready handed to another vCPU (host.bugs.page-ready-to-other-vcpu): {cpu, item}. */
    public final List<WorkItem> handedOver = new ArrayList<>();
    public final List<Finding> findings = new ArrayList<>();
    private final List<Runnable> observers = new ArrayList<>();
    private long steps;

    public Rig(Settings settings, long seed) {
        this(settings, seed, 0);
    }

    public Rig(Settings settings, long seed, int vcpuId) {
        this(settings, seed, vcpuId, null);
    }

    /** A rig for vCPU {@code vcpuId} of the same guest as {@code sibling} (its memory and sleeper table), or a new guest. */
    public Rig(Settings settings, long seed, int vcpuId, Rig sibling) {
        this.settings = settings;
        this.memory = sibling != null ? sibling.memory : new AtomicHostMemory(Math.max(settings.topology().vcpus(),
                vcpuId + 1) * Vcpu.framesPerVcpu(settings));
        this.sleepers = sibling != null ? sibling.sleepers : new SleeperTable();
        Vcpu.Outbox out = new Vcpu.Outbox() {
            @Override
            public void startWork(WorkItem item) {
                started.add(item);
            }

            @Override
            public void remoteWake(int cpu, int task) {
                remoteWakes.add(new int[] {cpu, task});
            }

            @Override
            public void pageReadyElsewhere(int cpu, WorkItem item) {
                handedOver.add(item);
            }

            @Override
            public void finding(Finding finding) {
                findings.add(finding);
            }
        };
        this.vcpu = new Vcpu(vcpuId, settings, new SplittableRandom(seed), new SplittableRandom(~seed), memory,
                sleepers, out, 0);
    }

    // ------------------------------------------------------------------ frames

    public int kernelGfn(int page) {
        return vcpu.kernel().layout().kernelGfn(page);
    }

    public int userGfn(int task, int page) {
        return vcpu.kernel().layout().userGfn(task, userAddress(page));
    }

    /** The frame of task {@code task}'s kernel stack (-1: the idle task's, with the IST stacks). */
    public int stackGfn(int task) {
        return vcpu.kernel().layout().stackGfn(task);
    }

    public static long userAddress(int page) {
        return Layout.USER_BASE + page * Layout.PAGE;
    }

    /** Makes every frame of this vCPU resident. */
    public Rig allResident() {
        int base = vcpu.id() * Vcpu.framesPerVcpu(settings);
        for (int g = base; g < base + Vcpu.framesPerVcpu(settings); g++) {
            memory.makeResident(g);
        }
        return this;
    }

    /** Makes every kernel frame of this vCPU resident: the kernel stacks and the kernel pages. */
    public Rig kernelResident() {
        for (int t = -1; t < settings.guest().tasksPerVcpu(); t++) {
            memory.makeResident(stackGfn(t));
        }
        for (int p = 0; p < settings.guest().kernelPages(); p++) {
            memory.makeResident(kernelGfn(p));
        }
        return this;
    }

    /** Makes every user frame of {@code task} resident. */
    public Rig userResident(int task) {
        for (int p = 0; p < settings.workload().workingSetPages(); p++) {
            memory.makeResident(userGfn(task, p));
        }
        return this;
    }

    /** Evicts every user frame of {@code task}. */
    public Rig evictUser(int task) {
        for (int p = 0; p < settings.workload().workingSetPages(); p++) {
            memory.evict(userGfn(task, p));
        }
        return this;
    }

    // ------------------------------------------------------------------ stepping

    /** Exactly one boundary (one event delivered or one micro-op executed). */
    public void step() {
        if (vcpu.dead()) {
            fail("vCPU is dead (" + vcpu.deathReason() + ") after " + steps + " steps; findings " + findings);
        }
        vcpu.run(Long.MAX_VALUE, 1);
        steps++;
        for (Runnable o : observers) {
            o.run();
        }
    }

    /** Runs {@code observer} after every step from now on (to record or check each boundary). */
    public void observe(Runnable observer) {
        observers.add(observer);
    }

    public void steps(int n) {
        for (int i = 0; i < n; i++) {
            step();
        }
    }

    /** Steps until {@code cond} holds (checked before each step), at most {@link #MAX_STEPS}. */
    public void stepUntil(String what, BooleanSupplier cond) {
        stepUntil(what, MAX_STEPS, cond);
    }

    public void stepUntil(String what, int max, BooleanSupplier cond) {
        for (int i = 0; i < max; i++) {
            if (cond.getAsBoolean()) {
                return;
            }
            if (vcpu.dead()) {
                fail("vCPU died (" + vcpu.deathReason() + ") while waiting for: " + what + "; findings " + findings);
            }
            step();
        }
        if (!cond.getAsBoolean()) {
            fail("never reached: " + what + " within " + max + " steps (routine " + routine()
                    + " pc " + pc() + ", findings " + findings + ")");
        }
    }

    /** The routine on top of the running task's stack, or null. */
    public Routine routine() {
        Frame top = vcpu.top();
        return top == null ? null : top.routine;
    }

    /** The program counter of the top frame: its step that runs next (-1 without a frame). */
    public int pc() {
        Frame top = vcpu.top();
        return top == null ? -1 : top.pc();
    }

    /** True at a boundary where {@code routine} is on top of the stack about to run its step {@code pc}. */
    public boolean at(Routine routine, int pc) {
        return routine() == routine && pc() == pc;
    }

    /** True at a boundary where {@code routine} was just entered: its first step is next. */
    public boolean atEntry(Routine routine) {
        return at(routine, 0);
    }

    public long count(Counter c) {
        return vcpu.counters().get(c);
    }

    public long findingCount(FindingKind kind) {
        return findings.stream().filter(f -> f.kind() == kind).count();
    }

    public List<Finding> findingsOf(FindingKind kind) {
        return findings.stream().filter(f -> f.kind() == kind).toList();
    }

    /**
     * Sleepers left from before an enable (kexec, migration; reference §4(v)): a halted one and a
     * task on this CPU (0), and a task on CPU 1.
     */
    public record PreEnableSleepers(SleeperNode haltedHere, SleeperNode taskHere, SleeperNode elsewhere) {
        /** Wake-all woke exactly this CPU's sleepers and created no dummy (§5 behaviour 8). */
        public void assertOnlyThisCpuWoken(Rig rig) {
            assertFalse(haltedHere.hashed(), "this CPU's halted sleeper woken");
            assertFalse(taskHere.hashed(), "this CPU's task sleeper woken");
            assertTrue(elsewhere.hashed(), "another CPU's sleeper untouched");
            assertEquals(1, rig.sleepers.size());
            assertEquals(0, rig.count(Counter.DUMMIES_CREATED), "no dummy for the wake-all");
        }
    }

    public PreEnableSleepers plantPreEnableSleepers() {
        PreEnableSleepers p = new PreEnableSleepers(SleeperNode.waiter(0x5000, 0, -1, true, 0),
                SleeperNode.waiter(0x6000, 0, 1, false, 0), SleeperNode.waiter(0x7001, 1, 0, false, 0));
        for (SleeperNode n : List.of(p.haltedHere(), p.taskHere(), p.elsewhere())) {
            sleepers.insert(SleeperTable.bucket(n.token), n);
        }
        return p;
    }

    /** Plays the paging worker: brings the frame in, then reports the completion at the next boundary. */
    public void complete(WorkItem item) {
        memory.makeResident(item.gfn());
        vcpu.onWorkDone(item, vcpu.nowNanos());
    }

    public WorkItem lastStarted() {
        if (started.isEmpty()) {
            fail("no work item was started");
        }
        return started.get(started.size() - 1);
    }

    /**
     * Runs past boot until the host's wake-all of the enable (reference §2.1, §2.2) has been
     * delivered and fully handled, so that later scripted steps see only their own events.
     */
    public void settleWakeAll() {
        boolean legacy = HostRules.of(settings.host().era()).pageReadyAsPageFault();
        stepUntil("wake-all of the enable delivered and handled", () -> {
            if (vcpu.counters().get(Counter.WAKE_ALLS) != 1) {
                return false;
            }
            Routine r = routine();
            if (r == Routine.WAKE || r.name().startsWith("PF_") || r == Routine.PAGE_READY_IRQ || r == Routine.BOOT) {
                return false;
            }
            return legacy || (!vcpu.host().pageReadyPending() && vcpu.host().area().token() == 0);
        });
        assertEquals(List.of(), findings, "no finding while settling the wake-all");
    }
}
