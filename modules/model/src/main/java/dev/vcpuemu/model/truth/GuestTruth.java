package dev.vcpuemu.model.truth;

import java.util.function.IntConsumer;

/** What the guest kernel knows of its sleepers, read by the ledger as ground truth. */
public interface GuestTruth {
    /** Each task of this vCPU asleep (scheduled away) on {@code token}, by index. */
    void forEachSleeperOn(int token, IntConsumer task);
}
