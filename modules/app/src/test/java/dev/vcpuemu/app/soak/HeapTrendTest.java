package dev.vcpuemu.app.soak;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HeapTrendTest {

    @Test
    void aStartUpStepFollowedByAFlatHeapIsNoGrowth() {
        SoakLog.HeapTrend t = new SoakLog.HeapTrend();
        t.add(30, 8 << 20);
        for (int i = 2; i <= 20; i++) {
            t.add(30 * i, 12 << 20);
        }
        assertEquals(0, t.slopeBytesPerHour(), 1e-6);
        assertTrue(t.describe().contains("first 8,192 KiB, last 12,288 KiB, max 12,288 KiB, trend +0 KiB/hour"), t.describe());
    }

    @Test
    void steadyGrowthIsMeasuredPerHour() {
        SoakLog.HeapTrend t = new SoakLog.HeapTrend();
        for (int i = 1; i <= 20; i++) {
            t.add(60 * i, 10_000_000L + 1_000L * i); // 1,000 bytes a minute
        }
        assertEquals(60_000, t.slopeBytesPerHour(), 1e-3);
        assertEquals(19, t.toJson(new com.fasterxml.jackson.databind.ObjectMapper()).get("slopeSamples").asInt());
    }

    @Test
    void fewSamplesMakeNoTrend() {
        SoakLog.HeapTrend t = new SoakLog.HeapTrend();
        t.add(1, 1);
        t.add(2, 1000);
        assertTrue(t.describe().contains("too few samples for a trend"), t.describe());
    }
}
