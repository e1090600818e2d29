package dev.vcpuemu.engine.det;

/**
 * One random draw that decides timing, named so that it means the same draw in every run of
 * the topology and seed, whatever order the actors ran in: a choice point of the deterministic
 * engine (Coyote's controlled {@code RandomInteger}), recorded in the schedule and open to
 * strategies, replay and shrinking (DESIGN §3).
 *
 * @param site  what the draw decides
 * @param guest the guest of the actor that draws
 * @param unit  the NMI source's index in {@code nmi.sources}, or the vCPU of a swap-in; 0 otherwise
 * @param token the swap-in's token; 0 otherwise
 * @param n     the NMI source's or reclaimer's draw number (0, 1, …), or the swap-in's issue time
 */
public record Draw(Site site, int guest, int unit, int token, long n) {

    public enum Site {
        /** When an NMI source's next NMI falls due: draw 0 is the phase, later ones the gap since the last. */
        NMI_ARRIVAL,
        /** A swap-in's latency (host.swap-in-latency): when the page-ready's completion falls due. */
        SWAP_IN,
        /** The gap before the reclaimer's next eviction. */
        EVICTION_TIME,
        /** Which vCPU's page the reclaimer evicts, by index. */
        EVICTION_VICTIM
    }

    public static Draw nmi(int guest, int source, long n) {
        return new Draw(Site.NMI_ARRIVAL, guest, source, 0, n);
    }

    public static Draw swapIn(int guest, int vcpu, int token, long issuedAtNanos) {
        return new Draw(Site.SWAP_IN, guest, vcpu, token, issuedAtNanos);
    }

    public static Draw evictionTime(int guest, long n) {
        return new Draw(Site.EVICTION_TIME, guest, 0, 0, n);
    }

    public static Draw evictionVictim(int guest, long n) {
        return new Draw(Site.EVICTION_VICTIM, guest, 0, 0, n);
    }

    /** How a report or an error names it, e.g. "NMI arrival 7 of source 0 (guest 0)". */
    public String describe() {
        return switch (site) {
            case NMI_ARRIVAL -> "NMI arrival " + n + " of source " + unit + " (guest " + guest + ")";
            case SWAP_IN -> String.format("swap-in latency of token 0x%x (guest %d, vCPU %d, issued at %,d ns)",
                    token & 0xFFFFFFFFL, guest, unit, n);
            case EVICTION_TIME -> "eviction time " + n + " (guest " + guest + ")";
            case EVICTION_VICTIM -> "eviction victim " + n + " (guest " + guest + ")";
        };
    }
}
