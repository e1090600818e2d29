package dev.vcpuemu.app.det;

import dev.vcpuemu.app.config.ConfigProblem;
import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.engine.det.Schedule;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.settings.Settings;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reduces a failing deterministic run while the same finding kind still appears: first the
 * topology (fewer vCPUs, tasks, paging workers, NMI sources, rarer NMIs; each candidate is
 * searched over a few seeds), then the schedule (delta debugging over the scheduling choices
 * that depart from the plain order, slot 0). The result is expressed as {@code --set}
 * overrides, a seed and a schedule file: a replay command.
 */
public final class Shrinker {
    /** Seeds tried for each smaller topology before giving it up. */
    static final int SEEDS_PER_CANDIDATE = 6;

    public record Result(List<String> sets, long seed, Schedule schedule, RunResult run, long tests) {}

    private final DeterministicRunner runner;
    private final StrategySpec strategy;
    private final StopRule stop;
    private final FindingKind kind;
    private final long maxSteps;
    private final long deadlineNanos;
    private final PrintWriter log;
    private long tests;

    public Shrinker(DeterministicRunner runner, StrategySpec strategy, FindingKind kind, long maxSteps,
                    long budgetNanos, PrintWriter log) {
        this.runner = runner;
        this.strategy = strategy;
        this.kind = kind;
        this.stop = StopRule.find(kind);
        this.maxSteps = maxSteps;
        this.deadlineNanos = System.nanoTime() + budgetNanos;
        this.log = log;
    }

    public Result shrink(List<String> sets, long seed) throws ConfigProblem, InterruptedException {
        List<String> current = new ArrayList<>(sets);
        long currentSeed = seed;
        boolean progress = true;
        while (progress && !outOfTime()) {
            progress = false;
            Settings s = runner.load(currentSeed, current).settings();
            for (Candidate c : candidates(s)) {
                List<String> trial = override(current, c.sets());
                Long found = searchSeeds(trial, currentSeed);
                if (found != null) {
                    log.printf("shrink: %s still shows %s (seed %d)%n", c.what(), kind, found);
                    log.flush();
                    current = trial;
                    currentSeed = found;
                    progress = true;
                    break;
                }
                if (outOfTime()) {
                    break;
                }
            }
        }
        LoadedSettings loaded = runner.load(currentSeed, current);
        Schedule original = new Schedule();
        RunResult first = run(loaded, null, original);
        Schedule shrunk = ddmin(loaded, original);
        Schedule fin = new Schedule();
        RunResult last = run(loaded, shrunk, fin);
        if (!stop.failed(last)) {
            // Cannot happen for a deterministic engine; keep the unreduced schedule if it does.
            fin = original;
            last = first;
        }
        return new Result(List.copyOf(current), currentSeed, fin, last, tests);
    }

    /** {@code base} with {@code changes} applied: a key set again replaces its earlier setting. */
    static List<String> override(List<String> base, List<String> changes) {
        List<String> out = new ArrayList<>();
        for (String b : base) {
            String key = b.substring(0, b.indexOf('='));
            if (changes.stream().noneMatch(c -> c.substring(0, c.indexOf('=')).equals(key))) {
                out.add(b);
            }
        }
        out.addAll(changes);
        return out;
    }

    private Long searchSeeds(List<String> sets, long seed) throws ConfigProblem, InterruptedException {
        for (int i = 0; i < SEEDS_PER_CANDIDATE && !outOfTime(); i++) {
            long s = seed + i;
            if (stop.failed(run(runner.load(s, sets), null, null))) {
                return s;
            }
        }
        return null;
    }

    /**
     * ddmin (Zeller and Hildebrandt, 2002) over the positions of non-default choices: set
     * chunks of them to 0 while the finding still appears; finer chunks when none can go.
     */
    private Schedule ddmin(LoadedSettings loaded, Schedule schedule) throws InterruptedException {
        int[] choices = schedule.toArray();
        List<Integer> deviations = new ArrayList<>();
        for (int i = 0; i < choices.length; i++) {
            if (choices[i] != 0) {
                deviations.add(i);
            }
        }
        int n = 2;
        while (deviations.size() >= 1 && !outOfTime()) {
            int chunk = Math.max(1, (int) Math.ceil(deviations.size() / (double) n));
            boolean removed = false;
            for (int start = 0; start < deviations.size() && !outOfTime(); start += chunk) {
                int[] trial = choices.clone();
                List<Integer> cut = deviations.subList(start, Math.min(deviations.size(), start + chunk));
                cut.forEach(i -> trial[i] = 0);
                if (stop.failed(run(loaded, Schedule.of(trial), null))) {
                    choices = trial;
                    List<Integer> rest = new ArrayList<>(deviations.subList(0, start));
                    rest.addAll(deviations.subList(Math.min(deviations.size(), start + chunk), deviations.size()));
                    deviations = rest;
                    n = Math.max(n - 1, 2);
                    removed = true;
                    break;
                }
            }
            if (!removed) {
                if (chunk == 1) {
                    break;
                }
                n = Math.min(deviations.size(), n * 2);
            }
        }
        return Schedule.of(choices);
    }

    private RunResult run(LoadedSettings loaded, Schedule replay, Schedule record) throws InterruptedException {
        tests++;
        return DeterministicRunner.run(loaded, strategy, stop, maxSteps, replay, record, null, p -> { });
    }

    private boolean outOfTime() {
        return System.nanoTime() > deadlineNanos;
    }

    record Candidate(String what, List<String> sets) {}

    /** Smaller neighbours of a topology, biggest reductions first. */
    static List<Candidate> candidates(Settings s) {
        List<Candidate> out = new ArrayList<>();
        int guests = s.topology().guests();
        if (guests > 1) {
            out.add(new Candidate((guests / 2) + " guests", List.of("topology.guests=" + (guests / 2))));
        }
        int v = s.topology().vcpus();
        for (int fewer : new int[] {v / 2, v - 1}) {
            if (fewer >= 1 && fewer < v && out.stream().noneMatch(c -> c.what().equals(fewer + " vCPUs"))) {
                List<String> sets = new ArrayList<>(List.of("topology.vcpus=" + fewer));
                sets.add("nmi.sources=" + render(s.nmi().sources(), fewer, -1, false));
                out.add(new Candidate(fewer + " vCPUs", sets));
            }
        }
        int t = s.guest().tasksPerVcpu();
        for (int fewer : new int[] {t / 2, t - 1}) {
            if (fewer >= 1 && fewer < t && out.stream().noneMatch(c -> c.what().equals(fewer + " tasks per vCPU"))) {
                out.add(new Candidate(fewer + " tasks per vCPU", List.of("guest.tasks-per-vcpu=" + fewer)));
            }
        }
        int w = s.host().pagingWorkers();
        if (w > 1) {
            out.add(new Candidate((w / 2) + " paging workers", List.of("host.paging-workers=" + (w / 2))));
        }
        List<Settings.NmiSource> sources = s.nmi().sources();
        for (int i = 0; i < sources.size(); i++) {
            out.add(new Candidate("without NMI source " + sources.get(i).name(),
                    List.of("nmi.sources=" + render(sources, v, i, false))));
        }
        for (int i = 0; i < sources.size(); i++) {
            out.add(new Candidate("NMI source " + sources.get(i).name() + " at half the rate",
                    List.of("nmi.sources=" + render(sources, v, i, true))));
        }
        return out;
    }

    /**
     * The NMI sources as a HOCON list, for {@code vcpus} vCPUs (targets beyond dropped; a
     * source left without targets is dropped), without source {@code drop}, or with its
     * interval doubled when {@code slower}.
     */
    static String render(List<Settings.NmiSource> sources, int vcpus, int index, boolean slower) {
        List<String> items = new ArrayList<>();
        for (int i = 0; i < sources.size(); i++) {
            Settings.NmiSource n = sources.get(i);
            if (i == index && !slower) {
                continue;
            }
            List<Integer> targets = n.targets().stream().filter(x -> x < vcpus).toList();
            if (!n.targets().isEmpty() && targets.isEmpty()) {
                continue;
            }
            long interval = i == index ? n.intervalNanos() * 2 : n.intervalNanos();
            items.add(String.format(Locale.ROOT,
                    "{name=%s, targets=%s, interval=%dns, jitter=%s, user-read-probability=%s}",
                    n.name(), targets.toString().replace(" ", ""), interval, n.jitter(), n.userReadProbability()));
        }
        return "[" + String.join(", ", items) + "]";
    }
}
