package dev.vcpuemu.model.memory;

/**
 * One guest task's page tables over its working set (DESIGN §1.1): a page is present or not,
 * and at most {@code limit} pages are present at a time. Mapping one more evicts the oldest
 * mapping (the guest's own reclaim), so genuine guest page faults keep occurring after the
 * first touch.
 */
public final class GuestPageTables {
    private final boolean[] present;
    private final int[] fifo;
    private final int limit;
    private int head;
    private int size;

    public GuestPageTables(int pages, int limit) {
        this.present = new boolean[pages];
        this.limit = Math.min(limit, pages);
        this.fifo = new int[this.limit];
    }

    public int pages() {
        return present.length;
    }

    public boolean present(int page) {
        return present[page];
    }

    /** Sets the PTE present; returns the page whose mapping was reclaimed, or -1. */
    public int map(int page) {
        if (present[page]) {
            return -1;
        }
        int victim = -1;
        if (size == limit) {
            victim = fifo[head];
            present[victim] = false;
            head = (head + 1) % limit;
            size--;
        }
        fifo[(head + size) % limit] = page;
        size++;
        present[page] = true;
        return victim;
    }

    public int mapped() {
        return size;
    }
}
