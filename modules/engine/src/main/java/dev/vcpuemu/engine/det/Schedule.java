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
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * The scheduling choices of one deterministic run, in order: at step i the executor ran the
 * mailbox at index {@code get(i)} of its ready list. With the topology, seed, mailbox
 * throughput and version this is the replay key of DESIGN §3, independent of the generator.
 *
 * <p>File format (gzip-compressed text): a header line
 * {@code vcpu-emu-schedule 1 steps=N}, then the N choices as decimal numbers separated by
 * spaces and newlines. Most choices are small numbers, so the files compress well.
 */
public final class Schedule {
    private static final String MAGIC = "vcpu-emu-schedule";
    private static final int VERSION = 1;

    private int[] choices;
    private int size;

    public Schedule() {
        this(new int[1024], 0);
    }

    private Schedule(int[] choices, int size) {
        this.choices = choices;
        this.size = size;
    }

    public static Schedule of(int... choices) {
        return new Schedule(choices.clone(), choices.length);
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
                out.write(MAGIC + " " + VERSION + " steps=" + size + "\n");
                for (int i = 0; i < size; i++) {
                    out.write(Integer.toString(choices[i]));
                    out.write(i % 32 == 31 ? '\n' : ' ');
                }
                out.write('\n');
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
            if (h.length != 3 || !h[0].equals(MAGIC) || !h[1].equals(Integer.toString(VERSION))
                    || !h[2].startsWith("steps=")) {
                throw new IOException("not a vcpu-emu schedule (version " + VERSION + ")");
            }
            int steps = Integer.parseInt(h[2].substring("steps=".length()));
            int[] c = new int[steps];
            int n = 0;
            String line;
            while ((line = in.readLine()) != null) {
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
            return new Schedule(c, n);
        } catch (NumberFormatException e) {
            throw new IOException("not a number in the schedule: " + e.getMessage());
        } catch (java.util.zip.ZipException e) {
            throw new IOException("not a vcpu-emu schedule (not gzip)");
        }
    }
}
