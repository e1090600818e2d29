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
 * (a required kind that never appeared).
 */
public record StopRule(FindingKind find, Settings.Expect expect) {

    public static StopRule find(FindingKind kind) {
        return new StopRule(kind, null);
    }

    public static StopRule unexpected(Settings.Expect expect) {
        return new StopRule(null, expect);
    }

    /** Finding kinds that end the run at once. */
    public Predicate<FindingKind> stopsOn() {
        if (find != null) {
            return k -> k == find;
        }
        return expect.isEmpty() ? k -> true : expect.absent()::contains;
    }

    /** The run found what is looked for, broke an expectation, or the emulator itself failed in it. */
    public boolean failed(RunResult r) {
        if (r.fault() != null) {
            return true;
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
        return find != null ? "the first " + find.name() : "the first unexpected finding";
    }
}
