package dev.vcpuemu.engine.det;

/**
 * Where a replayed schedule first stopped fitting the run it was replayed in: a schedule
 * recorded for another topology, seed or mailbox throughput, or a truncated or edited one.
 * Steps count from 1 here (step n is the n-th choice of the schedule file).
 *
 * @param kind          what did not fit
 * @param step          the first step that did not fit (1-based); for {@link Kind#RUN_ENDED} the
 *                      number of steps the run took
 * @param choice        the recorded choice at that step, or -1 when there was none
 * @param ready         how many mailboxes were ready at that step, or 0 when the run had ended
 * @param scheduleSteps how many choices the schedule holds
 * @param draw          for the draw kinds, the timing draw that did not fit and why; else null
 */
public record Divergence(Kind kind, long step, int choice, int ready, int scheduleSteps, String draw) {

    public enum Kind {
        /** The recorded choice is not an index into that step's ready list. */
        CHOICE_OUT_OF_RANGE,
        /** The schedule ran out while the run went on. */
        SCHEDULE_EXHAUSTED,
        /** The run ended with recorded choices left over. */
        RUN_ENDED,
        /** The run took a timing draw the schedule has no value for. */
        DRAW_MISSING,
        /** The schedule's value for a timing draw is outside the draw's range. */
        DRAW_OUT_OF_RANGE
    }

    /** What went wrong, as the end of a sentence beginning "the schedule does not fit this run: ". */
    public String describe() {
        return switch (kind) {
            case CHOICE_OUT_OF_RANGE -> String.format("at step %,d it chose mailbox %d of %d ready (%s)", step, choice,
                    ready, ready == 1 ? "the only one is 0" : "they are 0 to " + (ready - 1));
            case SCHEDULE_EXHAUSTED -> String.format("its %,d choices ran out at step %,d of a run that went on",
                    scheduleSteps, step);
            case RUN_ENDED -> String.format("the run ended at step %,d with %,d of its %,d choices left",
                    step, scheduleSteps - step, scheduleSteps);
            case DRAW_MISSING, DRAW_OUT_OF_RANGE -> String.format("at step %,d %s", step, draw);
        };
    }
}
