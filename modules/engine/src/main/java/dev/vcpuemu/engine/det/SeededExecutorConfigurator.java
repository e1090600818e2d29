package dev.vcpuemu.engine.det;

import com.typesafe.config.Config;
import org.apache.pekko.dispatch.DispatcherPrerequisites;
import org.apache.pekko.dispatch.ExecutorServiceConfigurator;
import org.apache.pekko.dispatch.ExecutorServiceFactory;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;

/**
 * Lets Pekko build the deterministic simulation dispatcher on a {@link SeededExecutor}
 * ({@code executor = "dev.vcpuemu.engine.det.SeededExecutorConfigurator"}). Pekko creates the
 * configurator by reflection from the dispatcher's configuration, so the run's executor is
 * handed over through a registry keyed by {@code seeded-executor-key}: several deterministic
 * runs (explore) can live side by side in one JVM, each with its own.
 */
public final class SeededExecutorConfigurator extends ExecutorServiceConfigurator {
    public static final String KEY = "seeded-executor-key";
    private static final Map<String, SeededExecutor> REGISTRY = new ConcurrentHashMap<>();

    private final SeededExecutor executor;

    public SeededExecutorConfigurator(Config config, DispatcherPrerequisites prerequisites) {
        super(config, prerequisites);
        String key = config.getString(KEY);
        executor = REGISTRY.get(key);
        if (executor == null) {
            throw new IllegalStateException("no seeded executor registered as " + key);
        }
    }

    public static void register(String key, SeededExecutor executor) {
        REGISTRY.put(key, executor);
    }

    public static void unregister(String key) {
        REGISTRY.remove(key);
    }

    @Override
    public ExecutorServiceFactory createExecutorServiceFactory(String id, ThreadFactory threadFactory) {
        return () -> executor;
    }
}
