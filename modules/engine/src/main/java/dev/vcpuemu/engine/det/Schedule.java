package dev.vcpuemu.engine.det;

import dev.vcpuemu.engine.io.AtomicFiles;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * The choices of one deterministic run: the scheduling choices in order (at step i the executor
 * ran the mailbox at index {@code get(i)} of its ready list), and the timing draws ({@link Draw}),
 * each under its name with the value the run used and whether that departs from the drawing
 * actor's own generator. With the topology, seed, mailbox throughput and version this is the
 * replay key of DESIGN §3, independent of the generators.
 *
 * <p>File format (gzip-compressed text): a header line
 * {@code vcpu-emu-schedule 2 steps=N draws=M}, then the N choices as decimal numbers separated by
 * spaces and newlines, then a line {@code draws} and one line per draw: its site, guest, unit,
 * token and number, its value, its range (least and greatest value), and {@code *} when the
 * value departs from the generator's. Most
 * choices are small numbers, so the files compress well. Version 1 files (no draws) are read too.
 */
public final class Schedule {
    private static final String MAGIC = "vcpu-emu-schedule";
    private static final int VERSION = 2;

    /** A timing draw as the run took it: its value, its range, and whether the value is not the generator's. */
    public record Recorded(Draw draw, long value, long min, long max, boolean departs) {}

    private int[] choices;
    private int size;
    private final List<Recorded> draws = new ArrayList<>();
    // Built at the first lookup, when the schedule is replayed; a recording never looks up.
    private Map<Draw, Long> index;
    // False for scheduling choices alone (a version 1 file, a list of choices): draws are the actors' own.
    private boolean timed;

    /** An empty schedule to record a run into. */
    public Schedule() {
        this(new int[1024], 0);
        timed = true;
    }

    private Schedule(int[] choices, int size) {
        this.choices = choices;
        this.size = size;
    }

    public static Schedule of(int... choices) {
        return new Schedule(choices.clone(), choices.length);
    }

    /**
     * A schedule of these scheduling choices and these draws (shrinking builds them): a draw it
     * does not hold takes the actor's own value.
     */
    public static Schedule of(int[] choices, List<Recorded> draws) {
        Schedule s = new Schedule(choices.clone(), choices.length);
        s.draws.addAll(draws);
        s.timed = true;
        return s;
    }

    /**
     * Whether this schedule records the timing draws; one that does not (scheduling choices
     * alone, as {@link #of(int...)} and version 1 files give) leaves them to the actors' own
     * generators, and lacking one is no misfit.
     */
    public boolean timed() {
        return timed;
    }

    public void addDraw(Draw draw, long value, long min, long max, boolean departs) {
        draws.add(new Recorded(draw, value, min, max, departs));
    }

    /** The draws in the order the run took them. */
    public List<Recorded> draws() {
        return Collections.unmodifiableList(draws);
    }

    /** The value recorded for {@code draw}, or null when the schedule has none. */
    public Long valueOf(Draw draw) {
        if (index == null) {
            Map<Draw, Long> m = new HashMap<>();
            for (Recorded r : draws) {
                m.putIfAbsent(r.draw(), r.value());
            }
            index = m;
        }
        return index.get(draw);
    }

    /** Draws whose value is not the one the actor's own generator gave. */
    public int drawDepartures() {
        return (int) draws.stream().filter(Recorded::departs).count();
    }

    public void add(int choice) {
        if (size == choices.length) {
            choices = Arrays.copyOf(choices, choices.length * 2);
        }
        choices[size++] = choice;
    }

    public int get(long step) {
        return choices[(int) step];
    }

    public int size() {
        return size;
    }

    /** Choices that are not the default (slot 0): the schedule's departures from the plain order. */
    public int deviations() {
        int n = 0;
        for (int i = 0; i < size; i++) {
            if (choices[i] != 0) {
                n++;
            }
        }
        return n;
    }

    public int[] toArray() {
        return Arrays.copyOf(choices, size);
    }

    /** Written to a temporary file, then moved into place: never a half-written schedule. */
    public void write(Path file) throws IOException {
        AtomicFiles.write(file, tmp -> {
            try (var out = new BufferedWriter(new OutputStreamWriter(
                    new GZIPOutputStream(Files.newOutputStream(tmp)), StandardCharsets.US_ASCII))) {
                // Scheduling choices alone stay a version 1 file: its draws are the actors' own.
                out.write(timed ? MAGIC + " " + VERSION + " steps=" + size + " draws=" + draws.size() + "\n"
                        : MAGIC + " 1 steps=" + size + "\n");
                for (int i = 0; i < size; i++) {
                    out.write(Integer.toString(choices[i]));
                    out.write(i % 32 == 31 ? '\n' : ' ');
                }
                out.write('\n');
                if (!timed) {
                    return null;
                }
                out.write("draws\n");
                for (Recorded r : draws) {
                    Draw d = r.draw();
                    out.write(d.site() + " " + d.guest() + " " + d.unit() + " " + d.token() + " " + d.n() + " "
                            + r.value() + " " + r.min() + " " + r.max() + (r.departs() ? " *" : "") + "\n");
                }
            }
            return null;
        });
    }

    /** Reads a schedule file; a file that is not one gives an IOException naming the problem. */
    public static Schedule read(Path file) throws IOException {
        try (var in = new BufferedReader(new InputStreamReader(
                new GZIPInputStream(Files.newInputStream(file)), StandardCharsets.US_ASCII))) {
            String header = in.readLine();
            String[] h = header == null ? new String[0] : header.split(" ");
            boolean v1 = h.length == 3 && h[0].equals(MAGIC) && h[1].equals("1") && h[2].startsWith("steps=");
            boolean v2 = h.length == 4 && h[0].equals(MAGIC) && h[1].equals(Integer.toString(VERSION))
                    && h[2].startsWith("steps=") && h[3].startsWith("draws=");
            if (!v1 && !v2) {
                throw new IOException("not a vcpu-emu schedule (version 1 or " + VERSION + ")");
            }
            int steps = Integer.parseInt(h[2].substring("steps=".length()));
            int drawCount = v2 ? Integer.parseInt(h[3].substring("draws=".length())) : 0;
            int[] c = new int[steps];
            int n = 0;
            String line;
            while ((line = in.readLine()) != null && !line.equals("draws")) {
                for (String t : line.trim().split(" +")) {
                    if (!t.isEmpty()) {
                        if (n == steps) {
                            throw new IOException("more choices than the header's " + steps);
                        }
                        int choice = Integer.parseInt(t);
                        if (choice < 0) {
                            throw new IOException("choice " + (n + 1) + " is negative: " + choice);
                        }
                        c[n++] = choice;
                    }
                }
            }
            if (n != steps) {
                throw new IOException("truncated: " + n + " of " + steps + " choices");
            }
            Schedule s = new Schedule(c, n);
            s.timed = v2;
            while ((line = in.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                String[] f = line.trim().split(" +");
                if (f.length < 8 || f.length > 9 || (f.length == 9 && !f[8].equals("*"))) {
                    throw new IOException("draw " + (s.draws.size() + 1)
                            + " is not 'SITE guest unit token n value min max [*]': " + line);
                }
                Draw.Site site;
                try {
                    site = Draw.Site.valueOf(f[0]);
                } catch (IllegalArgumentException e) {
                    throw new IOException("draw " + (s.draws.size() + 1) + " has an unknown site " + f[0]);
                }
                s.addDraw(new Draw(site, Integer.parseInt(f[1]), Integer.parseInt(f[2]), Integer.parseInt(f[3]),
                        Long.parseLong(f[4])), Long.parseLong(f[5]), Long.parseLong(f[6]), Long.parseLong(f[7]),
                        f.length == 9);
            }
            if (s.draws.size() != drawCount) {
                throw new IOException("truncated: " + s.draws.size() + " of " + drawCount + " draws");
            }
            return s;
        } catch (NumberFormatException e) {
            throw new IOException("not a number in the schedule: " + e.getMessage());
        } catch (java.util.zip.ZipException e) {
            throw new IOException("not a vcpu-emu schedule (not gzip)");
        }
    }
}
