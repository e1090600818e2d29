package dev.vcpuemu.app.det;

import dev.vcpuemu.app.report.Expectations;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.settings.Settings;

import java.util.function.Predicate;

/**
 * When explore and replay stop a run and call it failing. {@code --find KIND}: the first
 * finding of that kind. Otherwise the topology's {@code expect} block: the first finding of a
 * kind it forbids (any kind, without an expect block), or, at the end, any expectation unmet
 * (a required kind that never appeared). {@link #emulatorFailure()}: no finding at all.
 */
public record StopRule(FindingKind find, Settings.Expect expect) {

    public static StopRule find(FindingKind kind) {
        return new StopRule(kind, null);
    }

    public static StopRule unexpected(Settings.Expect expect) {
        return new StopRule(null, expect);
    }

    /**
     * No finding stops or fails a run: only the emulator's own failure does (a fault in an actor,
     * or broken conservation). For runs measured for their speed, which must all run to the end.
     */
    public static StopRule emulatorFailure() {
        return new StopRule(null, null);
    }

    private boolean findingsMatter() {
        return find != null || expect != null;
    }

    /** Finding kinds that end the run at once. */
    public Predicate<FindingKind> stopsOn() {
        if (find != null) {
            return k -> k == find;
        }
        if (!findingsMatter()) {
            return k -> false;
        }
        return expect.isEmpty() ? k -> true : expect.absent()::contains;
    }

    /** The run found what is looked for, broke an expectation, or the emulator itself failed in it. */
    public boolean failed(RunResult r) {
        if (r.fault() != null) {
            return true;
        }
        if (!findingsMatter()) {
            return !r.conservation().held();
        }
        return find != null ? r.findings().getOrDefault(find, 0L) > 0 : !Expectations.judge(expect, r).met();
    }

    /** The finding kind a failing run is about (what shrinking must keep), or null if none. */
    public FindingKind culprit(RunResult r) {
        if (find != null) {
            return find;
        }
        String prefix = dev.vcpuemu.engine.run.RunControl.FINDING_PREFIX;
        return r.endReason().startsWith(prefix) ? FindingKind.valueOf(r.endReason().substring(prefix.length())) : null;
    }

    /** The command-line words that select this rule. */
    public String args() {
        return find != null ? " --find " + find.name() : "";
    }

    public String describe() {
        return find != null ? "the first " + find.name()
                : findingsMatter() ? "the first unexpected finding" : "an emulator failure";
    }
}
