package dev.vcpuemu.model.stats;

/** The counters of a run; {@link #key} is the name in the JSON report (DESIGN §4). */
public enum Counter {
    MICRO_OPS("microOps"),
    GENUINE_PAGE_FAULTS("genuinePageFaults"),
    APF_NOT_PRESENT_INJECTED("apfNotPresentInjected"),
    APF_PAGE_READY_INJECTED("apfPageReadyInjected"),
    SYNTHETIC_HALTS("syntheticHalts"),
    SYNCHRONOUS_FAULTS("synchronousFaults"),
    NMIS_DELIVERED("nmisDelivered"),
    TASKS_SLEPT("tasksSlept"),
    TASKS_WOKEN("tasksWoken"),
    MESSAGES("messages"),
    TOKENS_ISSUED("tokensIssued"),
    PAGE_READY_SUPPRESSED("pageReadySuppressed"),
    WAKE_ALLS("wakeAlls"),
    DUMMIES_CREATED("dummiesCreated"),
    TASKS_KILLED("tasksKilled"),
    WORK_ITEMS_SENT("workItemsSent"),
    WORK_ITEMS_COMPLETED("workItemsCompleted"),
    PAGES_EVICTED("pagesEvicted"),
    NMIS_SENT("nmisSent"),
    /** Async #PFs (not-present or legacy page-ready) delivered to L1 as #PF VM exits (§2.4). */
    PF_VM_EXITS("pfVmExits"),
    /** NMIs asserted while two were pending already (one while NMIs were blocked): lost, as on hardware. */
    NMIS_LOST("nmisLost"),
    /** WRMSRs of a paravirtual MSR that the host refused with #GP (reference §1.3, behaviour 30). */
    MSR_WRITES_REFUSED("msrWritesRefused"),
    /** NMIs delivered inside an async not-present #PF handler before it read the APF word (§4(i)'s window). */
    NMIS_IN_NOT_PRESENT_WINDOW("nmisInNotPresentWindow"),
    /** NMIs delivered inside a page-ready #PF handler (legacy) before it read the APF word. */
    NMIS_IN_PAGE_READY_WINDOW("nmisInPageReadyWindow");

    public final String key;

    Counter(String key) {
        this.key = key;
    }
}
