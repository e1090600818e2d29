package dev.vcpuemu.app;

import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/** {@code --set key=value}, shared by every command that loads a topology. */
final class SetOptions {
    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override any configuration key (repeatable).")
    List<String> sets = new ArrayList<>();
}
