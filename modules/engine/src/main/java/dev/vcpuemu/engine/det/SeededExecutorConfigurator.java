package dev.vcpuemu.engine.det;

import com.typesafe.config.Config;
import org.apache.pekko.dispatch.DispatcherPrerequisites;
import org.apache.pekko.dispatch.ExecutorServiceConfigurator;
import org.apache.pekko.dispatch.ExecutorServiceFactory;

import java.util.List;
import java.util.Map;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * Lets Pekko build the deterministic simulation dispatcher on a {@link SeededExecutor}
 * ({@code executor = "dev.vcpuemu.engine.det.SeededExecutorConfigurator"}). Pekko creates the
 * configurator by reflection from the dispatcher's configuration, so the run's executor is
 * handed over through a registry keyed by {@code seeded-executor-key}: several deterministic
 * runs (explore) can live side by side in one JVM, each with its own.
 *
 * <p>The executor belongs to whoever registered it, who shuts it down. Pekko gets a view of it:
 * a dispatcher left without actors for its {@code shutdown-timeout} shuts its executor down and,
 * when an actor comes back, asks the factory for a new one. Were that the executor itself, an
 * actor system kept for many runs (a {@code DeterministicHost}) would lose its only thread after
 * a pause between two runs longer than that timeout, and hang at the next.
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
        return () -> new Lent(executor);
    }

    /** Pekko's view of a registered executor: its shutdown ends the view, not the executor. */
    private static final class Lent extends AbstractExecutorService {
        private final SeededExecutor executor;
        private volatile boolean shut;

        Lent(SeededExecutor executor) {
            this.executor = executor;
        }

        @Override
        public void execute(Runnable task) {
            executor.execute(task);
        }

        @Override
        public void shutdown() {
            shut = true;
        }

        @Override
        public List<Runnable> shutdownNow() {
            shut = true;
            return List.of();
        }

        @Override
        public boolean isShutdown() {
            return shut;
        }

        @Override
        public boolean isTerminated() {
            return shut;
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return shut;
        }
    }
}
