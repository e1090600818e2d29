package dev.vcpuemu.model.vcpu;

import dev.vcpuemu.model.Rig;
import dev.vcpuemu.model.TestSettings;
import dev.vcpuemu.model.stats.VcpuTime;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where a vCPU's virtual time goes ({@link VcpuTime}): every nanosecond in exactly one part. */
class VcpuTimeTest {

    private static long get(Vcpu v, VcpuTime use) {
        return v.timeUse()[use.ordinal()];
    }

    @Test
    void aTaskThatSleepsOnAnAsyncFaultLeavesTheVcpuHalted() {
        Rig rig = new Rig(TestSettings.interrupt().tasks(1).workingSet(4).mappedPages(4).tick(1_000_000).build(), 7);
        rig.allResident();
        rig.settleWakeAll();
        rig.evictUser(0);
        rig.stepUntil("task 0 asleep", () -> rig.vcpu.sleepingTasks() == 1);
        long handlerBefore = get(rig.vcpu, VcpuTime.HANDLER);
        long haltedBefore = get(rig.vcpu, VcpuTime.HALTED);
        rig.vcpu.run(900_000, Integer.MAX_VALUE);

        assertEquals(900_000, Arrays.stream(rig.vcpu.timeUse()).sum(), "the parts add up to the time run");
        assertTrue(get(rig.vcpu, VcpuTime.RUNNING) > 0, "the task ran before it faulted");
        assertTrue(handlerBefore > 0, "the #PF handler ran to put it to sleep");
        assertTrue(get(rig.vcpu, VcpuTime.HALTED) - haltedBefore > 800_000,
                "then nothing but the idle HLT until 900 µs: " + Arrays.toString(rig.vcpu.timeUse()));
        assertEquals(0, get(rig.vcpu, VcpuTime.STALLED));
    }

    @Test
    void aFaultWithInterruptsOffIsStalledTime() {
        // reference §2.0 step 3 (behaviour 3): IF=0 at the fault, so the host serves it synchronously.
        Rig rig = new Rig(TestSettings.interrupt().tasks(1).kernelPages(1).syscalls(1.0, 1, 0, 1.0).swapIn(300_000)
                .tick(1_000_000_000L).build(), 31);
        rig.allResident();
        rig.settleWakeAll();
        rig.memory.evict(rig.kernelGfn(0));
        long start = rig.vcpu.nowNanos();
        rig.vcpu.run(start + 1_000_000, Integer.MAX_VALUE);
        assertEquals(start + 1_000_000, Arrays.stream(rig.vcpu.timeUse()).sum());
        // The stall begins after the faulting micro-op retires its own cost: the swap-in less one op.
        assertTrue(get(rig.vcpu, VcpuTime.STALLED) > 299_000, Arrays.toString(rig.vcpu.timeUse()));
    }
}
