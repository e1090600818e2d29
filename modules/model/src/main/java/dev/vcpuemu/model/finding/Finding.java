package dev.vcpuemu.model.finding;

import java.util.List;

/** One broken invariant: its kind, where and when, and the last events of that vCPU. */
public record Finding(FindingKind kind, int vcpu, long atNanos, String detail, List<String> events) {}
