package dev.vcpuemu.app.det;

import dev.vcpuemu.app.config.ConfigProblem;
import dev.vcpuemu.app.config.LoadedSettings;
import dev.vcpuemu.engine.DeterministicHost;
import dev.vcpuemu.engine.det.Schedule;
import dev.vcpuemu.engine.det.Strategy;
import dev.vcpuemu.engine.run.RunResult;
import dev.vcpuemu.engine.timeline.TrackSinks;
import dev.vcpuemu.model.finding.FindingKind;
import dev.vcpuemu.model.settings.Settings;
import dev.vcpuemu.model.trace.EventCounter;
import dev.vcpuemu.model.trace.EventSink;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;

/**
 * Reduces a failing deterministic run while the same finding kind still appears: first the
 * topology (fewer vCPUs, tasks, paging workers, NMI sources, rarer NMIs; each candidate is
 * searched by a few runs of the search's own strategy: seeds for random and pct, a first run and
 * its aimed runs for windows), then the choices: delta debugging over every departure from the
 * default, scheduling choices that are not slot 0 (the plain order) and timing draws that are not
 * the drawing actor's own value. The result is expressed as {@code --set} overrides, a seed and a
 * schedule file: a replay command. The failing and the shrunk run's vCPU events are counted (up
 * to the finding, where the run stops): the size of the interleaving a reader has to follow.
 */
public final class Shrinker {
    /** Runs tried for each smaller topology before giving it up. */
    static final int SEEDS_PER_CANDIDATE = 6;

    /**
     * @param events         vCPU events of the shrunk run (up to and with its finding)
     * @param originalEvents vCPU events of the run shrinking started from
     * @param original       the choices of that run
     */
    public record Result(List<String> sets, long seed, Schedule schedule, RunResult run, long tests, long events,
                         Schedule original, long originalEvents) {}

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

    /** Shrinks the failing run {@code failing} of a search over the runner's topology with {@code sets}. */
    public Result shrink(List<String> sets, Explorer.Plan failing) throws ConfigProblem, InterruptedException {
        LoadedSettings start = runner.load(failing.seed(), sets);
        // One actor system for this shrink's own runs, as explore keeps one per thread.
        try (DeterministicHost host = new DeterministicHost(start.settings(), start.config(), false)) {
            return shrink(host, start, sets, failing);
        }
    }

    private Result shrink(DeterministicHost host, LoadedSettings start, List<String> sets, Explorer.Plan failing)
            throws ConfigProblem, InterruptedException {
        List<String> current = new ArrayList<>(sets);
        Explorer.Plan plan = failing;
        Schedule original = new Schedule();
        EventCount originalEvents = new EventCount();
        RunResult originalRun = run(host, start, plan.strategy(), original, originalEvents);
        boolean progress = true;
        while (progress && !outOfTime()) {
            progress = false;
            Settings s = runner.load(plan.seed(), current).settings();
            for (Candidate c : candidates(s)) {
                List<String> trial = override(current, c.sets());
                Explorer.Plan found = search(trial, plan.seed());
                if (found != null) {
                    log.printf("shrink: %s still shows %s (seed %d%s)%n", c.what(), kind, found.seed(),
                            found.aim() == null ? "" : ", an aimed run");
                    log.flush();
                    current = trial;
                    plan = found;
                    progress = true;
                    break;
                }
                if (outOfTime()) {
                    break;
                }
            }
        }
        LoadedSettings loaded = plan == failing ? start : runner.load(plan.seed(), current);
        Schedule before = original;
        RunResult first = originalRun;
        if (plan != failing) {
            before = new Schedule();
            first = run(host, loaded, plan.strategy(), before, null);
        }
        Schedule shrunk = ddmin(host, loaded, before);
        Schedule fin = new Schedule();
        EventCount events = new EventCount();
        RunResult last = run(host, loaded, Strategy.replay(shrunk), fin, events);
        if (!stop.failed(last)) {
            // Cannot happen for a deterministic engine; keep the unreduced schedule if it does.
            fin = before;
            last = first;
        }
        return new Result(List.copyOf(current), plan.seed(), fin, last, tests, events.count(), original,
                originalEvents.count());
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

    /** A few runs of the search's strategy on the smaller topology {@code sets}: the first that fails, or null. */
    private Explorer.Plan search(List<String> sets, long seed) throws InterruptedException {
        Explorer explorer = new Explorer(runner.with(sets), strategy, stop, maxSteps, 1);
        try {
            Explorer.Outcome o = explorer.run(seed, SEEDS_PER_CANDIDATE, deadlineNanos);
            tests += o.runs();
            return o.failure() == null ? null : o.failure().plan();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ConfigProblem) {
                return null;
            }
            throw new IllegalStateException("a shrink candidate's run failed", e.getCause());
        }
    }

    /**
     * ddmin (Zeller and Hildebrandt, 2002) over the departures from the default: scheduling
     * choices that are not 0 (a departure at position i of the choices) and timing draws that are
     * not the actor's own (a departure numbered choices + j, for draw j). Set chunks of them back to
     * the default while the finding still appears (a choice to 0, a draw dropped from the schedule,
     * so that the actor draws its own); finer chunks when none can go.
     */
    private Schedule ddmin(DeterministicHost host, LoadedSettings loaded, Schedule schedule)
            throws InterruptedException {
        int[] choices = schedule.toArray();
        List<Schedule.Recorded> draws = schedule.draws();
        List<Integer> deviations = new ArrayList<>();
        for (int i = 0; i < choices.length; i++) {
            if (choices[i] != 0) {
                deviations.add(i);
            }
        }
        for (int j = 0; j < draws.size(); j++) {
            if (draws.get(j).departs()) {
                deviations.add(choices.length + j);
            }
        }
        boolean[] dropped = new boolean[draws.size()];
        int n = 2;
        while (deviations.size() >= 1 && !outOfTime()) {
            int chunk = Math.max(1, (int) Math.ceil(deviations.size() / (double) n));
            boolean removed = false;
            for (int start = 0; start < deviations.size() && !outOfTime(); start += chunk) {
                int[] trial = choices.clone();
                boolean[] trialDropped = dropped.clone();
                List<Integer> cut = deviations.subList(start, Math.min(deviations.size(), start + chunk));
                for (int i : cut) {
                    if (i < trial.length) {
                        trial[i] = 0;
                    } else {
                        trialDropped[i - trial.length] = true;
                    }
                }
                if (stop.failed(run(host, loaded, Strategy.replay(kept(trial, draws, trialDropped)), null, null))) {
                    choices = trial;
                    dropped = trialDropped;
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
        return kept(choices, draws, dropped);
    }

    private static Schedule kept(int[] choices, List<Schedule.Recorded> draws, boolean[] dropped) {
        List<Schedule.Recorded> kept = new ArrayList<>();
        for (int j = 0; j < draws.size(); j++) {
            if (!dropped[j]) {
                kept.add(draws.get(j));
            }
        }
        return Schedule.of(choices, kept);
    }

    private RunResult run(DeterministicHost host, LoadedSettings loaded, Strategy strategy, Schedule record,
                          TrackSinks events) throws InterruptedException {
        tests++;
        return DeterministicRunner.run(host, loaded, strategy, stop, maxSteps, record, events);
    }

    /** Counts every vCPU's events and findings: the size of a run's interleaving. */
    static final class EventCount implements TrackSinks {
        private final EventCounter counter = new EventCounter();

        @Override
        public EventSink vcpu(int guest, int vcpu) {
            return counter;
        }

        @Override
        public EventSink worker(int guest, int worker) {
            return null;
        }

        long count() {
            return counter.count();
        }
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
            // Down to one NMI per run: rarer still says nothing more.
            if (sources.get(i).intervalNanos() * 2 <= s.run().duration().toNanos()) {
                out.add(new Candidate("NMI source " + sources.get(i).name() + " at half the rate",
                        List.of("nmi.sources=" + render(sources, v, i, true))));
            }
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
