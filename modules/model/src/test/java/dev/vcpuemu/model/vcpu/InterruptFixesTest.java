package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.Rig;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.abi.Apf;
import dev.vcpuemu.model.cpu.Vector;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.guest.program.Routine;
import dev.vcpuemu.model.guest.program.Smm;
import dev.vcpuemu.model.host.WorkItem;
import dev.vcpuemu.model.settings.Settings.HostFixes;
import dev.vcpuemu.model.stats.Counter;
import dev.vcpuemu.model.truth.TokenFate;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The interrupt host's dated fixes (host.fixes) and the switches that show what each fixed:
 * LAPIC disabled at enable (5.13, §4(v) 2), token 0 (5.17, hazard ix), CR0.PG changes in SMM
 * (2022 and 2025, §4(v) 1), and migration's wake-all (§4(v) "migration").
 */
class InterruptFixesTest {
    private static final long LAPIC_DELAY = 2_000_000;

    private static Rig lapicDisabledAtEnable(HostFixes fixes) {
        Rig rig = new Rig(TestSettings.interrupt().hostFixes(fixes).lapicEnableDelay(LAPIC_DELAY).tasks(1)
                .workingSet(1).mappedPages(1).build(), 3);
        rig.kernelResident();
        return rig;
    }

    @Test
    void behaviour25_before513TheWakeAllIsWrittenItsIrqDroppedAndTheFullSlotBlocksEveryLaterPageReady() {
        // §5 behaviour 25 (HI pre-5.13): T = 0xFFFFFFFF written, the IRQ dropped, later page-readies blocked.
        Rig rig = lapicDisabledAtEnable(new HostFixes(false, true, true, true));
        rig.stepUntil("the enable's wake-all written to the slot", () -> rig.count(Counter.WAKE_ALLS) == 1);
        assertEquals(Apf.WAKE_ALL_TOKEN, rig.vcpu.host().area().token());
        assertFalse(rig.vcpu.cpu().irrPending(Vector.ASYNC_PF), "the disabled LAPIC dropped the interrupt");
        rig.stepUntil("the task asleep on its token, LAPIC on again", () -> rig.vcpu.sleepingTasks() == 1
                && rig.vcpu.nowNanos() > LAPIC_DELAY);
        rig.complete(rig.lastStarted());
        rig.vcpu.run(rig.vcpu.nowNanos() + 20_000_000, Integer.MAX_VALUE);
        assertEquals(Apf.WAKE_ALL_TOKEN, rig.vcpu.host().area().token(), "the slot is never freed");
        assertEquals(1, rig.vcpu.sleepingTasks(), "its page-ready waits behind the full slot forever");
        assertTrue(rig.vcpu.host().hasDone());
        assertTrue(rig.vcpu.quiescent(), "a lost wakeup: nothing will ever change");
    }

    @Test
    void behaviour25_from513NothingIsDequeuedUntilTheLapicIsOnThenTheWakeAllIsDelivered() {
        // §5 behaviour 25 (HI-b): can_dequeue needs the LAPIC enabled; enabling it raises APF_READY.
        Rig rig = lapicDisabledAtEnable(HostFixes.ALL);
        rig.vcpu.run(LAPIC_DELAY - 1, Integer.MAX_VALUE);
        assertEquals(0, rig.count(Counter.WAKE_ALLS));
        assertEquals(0, rig.vcpu.host().area().token(), "nothing written while the LAPIC is off");
        assertEquals(1, rig.vcpu.host().queued(), "the wake-all waits on the done list");
        rig.stepUntil("the wake-all delivered after the LAPIC enable", () -> rig.count(Counter.WAKE_ALLS) == 1);
        assertTrue(rig.vcpu.nowNanos() >= LAPIC_DELAY);
        rig.stepUntil("the task asleep on its token", () -> rig.vcpu.sleepingTasks() == 1);
        rig.complete(rig.lastStarted());
        rig.stepUntil("woken by its page-ready", () -> rig.vcpu.sleepingTasks() == 0);
        assertEquals(List.of(), rig.findings);
    }

    /** Two tasks asleep on vCPU 0's first two tokens, both pages brought in at the same boundary. */
    private static Rig twoCompletionsAtOnce(HostFixes fixes) {
        Rig rig = new Rig(TestSettings.interrupt().hostFixes(fixes).tokenIdStart(0).tasks(2).workingSet(1)
                .mappedPages(1).build(), 9);
        rig.kernelResident();
        rig.settleWakeAll();
        rig.stepUntil("both tasks asleep", () -> rig.vcpu.sleepingTasks() == 2);
        for (WorkItem w : List.copyOf(rig.started)) {
            rig.complete(w);
        }
        rig.vcpu.run(rig.vcpu.nowNanos() + 5_000_000, Integer.MAX_VALUE);
        return rig;
    }

    @Test
    void hazardIx_before517TokenZeroReadsAsAFreeSlotAndItsPageReadyIsLost() {
        // §4(ix): T := 0 reads as free, T := t1 over it, the IRQ coalesces; A is never woken.
        Rig rig = twoCompletionsAtOnce(new HostFixes(true, false, true, true));
        assertEquals(List.of(0, 0x1000), rig.started.stream().map(WorkItem::token).toList(), "token 0 was issued");
        assertEquals(1, rig.findingCount(FindingKind.IRR_COALESCED_LOSS), rig.findings.toString());
        assertEquals(1, rig.vcpu.sleepingTasks(), "task A (token 0) is never woken");
        assertFalse(rig.vcpu.host().hasDone(), "nothing left to send: a lost wakeup");
    }

    @Test
    void hazardIx_from517NoTokenIsZero() {
        Rig rig = twoCompletionsAtOnce(HostFixes.ALL);
        assertEquals(List.of(0x1000, 0x2000), rig.started.stream().map(WorkItem::token).toList());
        assertEquals(0, rig.vcpu.sleepingTasks());
        assertEquals(List.of(), rig.findings);
    }

    /** A task asleep on its token, then an SMI whose handler runs long enough for the page to come in. */
    private static Rig sleeperThroughAnSmi(HostFixes fixes) {
        Rig rig = new Rig(TestSettings.interrupt().hostFixes(fixes).smi(1_000_000, 50_000).tasks(1).workingSet(1)
                .mappedPages(1).build(), 4);
        rig.kernelResident();
        rig.settleWakeAll();
        rig.stepUntil("the task asleep", () -> rig.vcpu.sleepingTasks() == 1);
        assertTrue(rig.vcpu.nowNanos() < 1_000_000, "asleep before the first SMI");
        WorkItem w = rig.lastStarted();
        rig.stepUntil("in SMM, CR0.PG=0", () -> rig.routine() == Routine.SMM && rig.pc() >= Smm.ACCESS);
        assertTrue(rig.vcpu.cpu().inSmm(), "CR0.PG=0");
        rig.complete(w);
        rig.vcpu.run(rig.vcpu.nowNanos() + 3_000_000, Integer.MAX_VALUE);
        return rig;
    }

    @Test
    void behaviour26_before2025TheSmisCr0PgChangeFlushesTheQueueAndTheSleeperHangs() {
        // §5 behaviour 26 (pre-HI-d): the queue is flushed and the sleepers hang.
        Rig rig = sleeperThroughAnSmi(new HostFixes(true, true, true, false));
        assertEquals(1, rig.vcpu.sleepingTasks());
        assertEquals(TokenFate.State.FLUSHED, rig.vcpu.sleepFate(0).state());
        assertEquals(1, rig.vcpu.host().flushed());
    }

    @Test
    void behaviour26_from2025CompletionsAreKeptAndDeliveredAfterCr0PgIsBack() {
        // §5 behaviour 26 (HI-d): kept, delivered after CR0.PG=1.
        Rig rig = sleeperThroughAnSmi(HostFixes.ALL);
        assertEquals(0, rig.vcpu.sleepingTasks());
        assertEquals(0, rig.vcpu.host().flushed());
        assertEquals(List.of(), rig.findings);
    }

    @Test
    void migrationRestartsTheParkedTaskThroughTheWakeAllOfTheRestoredEnable() {
        // §4(v) "Interleaving: migration (INT era)" rows 0-5.
        Rig rig = new Rig(TestSettings.interrupt().migrateAt(1_000_000).tasks(1).workingSet(1).mappedPages(1).build(), 6);
        rig.kernelResident();
        rig.settleWakeAll();
        rig.stepUntil("the task asleep on t on the source", () -> rig.vcpu.sleepingTasks() == 1);
        WorkItem source = rig.lastStarted();
        rig.stepUntil("migrated: the wake-all woke it", () -> rig.count(Counter.WAKE_ALLS) == 2
                && rig.vcpu.sleepingTasks() == 0);
        assertEquals(0, rig.sleepers.size());
        rig.stepUntil("it retried: a new APF with a new token", () -> rig.started.size() == 2);
        assertTrue(rig.lastStarted().token() != source.token());
        rig.complete(source);
        rig.complete(rig.lastStarted());
        rig.vcpu.run(rig.vcpu.nowNanos() + 2_000_000, Integer.MAX_VALUE);
        assertEquals(0, rig.vcpu.sleepingTasks());
        assertEquals(1, rig.vcpu.host().flushed(), "the source's work is gone with the source");
        assertEquals(List.of(), rig.findings);
    }
}
