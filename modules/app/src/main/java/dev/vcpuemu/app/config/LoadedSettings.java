package dev.vcpuemu.app.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import dev.vcpuemu.model.settings.Settings;

import java.util.ArrayList;
import java.util.List;

/**
 * What {@link SettingsLoader#load} produced.
 *
 * @param settings the validated, typed settings of the run
 * @param config   the fully resolved configuration ({@code --set} over the topology file over
 *                 {@code ConfigFactory.load()}-style defaults, Pekko's reference included): build
 *                 the ActorSystem from it
 * @param source   {@value SettingsLoader#EMBEDDED} or the topology file's path as given
 * @param sets     the {@code --set key=value} arguments as given, in order
 */
public record LoadedSettings(Settings settings, Config config, String source, List<String> sets) {
    public LoadedSettings {
        sets = List.copyOf(sets);
    }

    /**
     * These settings with another {@code run.seed}, as loading them with {@code --set
     * run.seed=S} appended would give (the seed is read by itself and feeds nothing else), without
     * parsing and checking the topology again: explore loads one topology for thousands of seeds.
     */
    public LoadedSettings withSeed(long seed) {
        Settings.Run r = settings.run();
        Settings s = new Settings(new Settings.Run(r.duration(), seed, r.progressInterval(), r.report()),
                settings.engine(), settings.topology(), settings.host(), settings.guest(), settings.workload(),
                settings.nmi(), settings.expect());
        List<String> more = new ArrayList<>(sets);
        more.add("run.seed=" + seed);
        return new LoadedSettings(s, config.withValue("vcpu-emu.run.seed", ConfigValueFactory.fromAnyRef(seed)), source,
                more);
    }
}
