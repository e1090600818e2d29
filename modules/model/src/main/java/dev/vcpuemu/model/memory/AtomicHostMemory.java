package dev.vcpuemu.model.memory;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/** {@link HostMemory} as a lock-free bit set; every frame starts swapped out. */
public final class AtomicHostMemory implements HostMemory {
    private final int frames;
    private final AtomicLongArray bits;
    private final AtomicInteger resident = new AtomicInteger();

    public AtomicHostMemory(int frames) {
        this.frames = frames;
        this.bits = new AtomicLongArray((frames + 63) / 64);
    }

    @Override
    public int frames() {
        return frames;
    }

    @Override
    public boolean resident(int gfn) {
        return (bits.get(gfn >>> 6) & (1L << gfn)) != 0;
    }

    @Override
    public boolean makeResident(int gfn) {
        long mask = 1L << gfn;
        int i = gfn >>> 6;
        long prev = bits.getAndUpdate(i, v -> v | mask);
        if ((prev & mask) == 0) {
            resident.incrementAndGet();
            return true;
        }
        return false;
    }

    @Override
    public boolean evict(int gfn) {
        long mask = 1L << gfn;
        int i = gfn >>> 6;
        long prev = bits.getAndUpdate(i, v -> v & ~mask);
        if ((prev & mask) != 0) {
            resident.decrementAndGet();
            return true;
        }
        return false;
    }

    @Override
    public int residentCount() {
        return resident.get();
    }

    @Override
    public int residentIn(int from, int to) {
        int n = 0;
        for (int g = from; g < to; ) {
            int word = g >>> 6;
            int end = Math.min(to, (word + 1) << 6);
            long mask = end - g == 64 ? -1L : ((1L << (end - g)) - 1) << (g & 63);
            n += Long.bitCount(bits.get(word) & mask);
            g = end;
        }
        return n;
    }
}
