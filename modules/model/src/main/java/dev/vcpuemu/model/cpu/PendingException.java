package dev.vcpuemu.model.cpu;

import dev.vcpuemu.model.truth.Delivery;

/**
 * An exception raised and not yet delivered.
 *
 * @param cr2      the faulting address, or the token of an async #PF; for a #PF VM exit, its exit
 *                 qualification (§2.4)
 * @param delivery ground truth: what this exception really is (DESIGN §1.6)
 * @param vmExit   an async #PF raised in guest mode, delivered as a #PF VM exit to L1 (§2.4)
 */
public record PendingException(int vector, long cr2, long errorCode, Delivery delivery, boolean vmExit) {}
