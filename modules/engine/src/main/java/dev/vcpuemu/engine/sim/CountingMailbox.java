package dev.vcpuemu.engine.sim;

import com.typesafe.config.Config;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.dispatch.Envelope;
import org.apache.pekko.dispatch.MailboxType;
import org.apache.pekko.dispatch.MessageQueue;
import org.apache.pekko.dispatch.ProducesMessageQueue;
import org.apache.pekko.dispatch.UnboundedMessageQueueSemantics;
import scala.Option;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.LongAdder;

/**
 * An unbounded mailbox that counts the messages waiting in all the simulation's mailboxes:
 * the mailbox backlog of a soak's interval lines. Used only when a run asks for it
 * ({@code RunControl.countMailboxBacklog()}): the count costs two adds per message, which the
 * benchmarked paths do not pay. Pekko builds mailbox types by reflection from configuration, so
 * the run's counter is handed over through a registry keyed by {@code backlog-key} (several
 * runs can live side by side in one JVM), as {@code SeededExecutorConfigurator} does.
 */
public final class CountingMailbox implements MailboxType, ProducesMessageQueue<CountingMailbox.Queue> {
    public static final String KEY = "backlog-key";
    private static final Map<String, LongAdder> REGISTRY = new ConcurrentHashMap<>();

    private final LongAdder backlog;

    public CountingMailbox(ActorSystem.Settings settings, Config config) {
        String key = config.getString(KEY);
        backlog = REGISTRY.get(key);
        if (backlog == null) {
            throw new IllegalStateException("no backlog counter registered as " + key);
        }
    }

    /** A new counter for the run {@code key}. */
    public static LongAdder register(String key) {
        LongAdder counter = new LongAdder();
        REGISTRY.put(key, counter);
        return counter;
    }

    public static void unregister(String key) {
        REGISTRY.remove(key);
    }

    @Override
    public MessageQueue create(Option<ActorRef> owner, Option<ActorSystem> system) {
        return new Queue(backlog);
    }

    /** Pekko's unbounded queue (a {@link ConcurrentLinkedQueue}) plus the shared count. */
    static final class Queue implements MessageQueue, UnboundedMessageQueueSemantics {
        private final ConcurrentLinkedQueue<Envelope> queue = new ConcurrentLinkedQueue<>();
        private final LongAdder backlog;

        Queue(LongAdder backlog) {
            this.backlog = backlog;
        }

        @Override
        public void enqueue(ActorRef receiver, Envelope handle) {
            queue.add(handle);
            backlog.increment();
        }

        @Override
        public Envelope dequeue() {
            Envelope e = queue.poll();
            if (e != null) {
                backlog.decrement();
            }
            return e;
        }

        @Override
        public int numberOfMessages() {
            return queue.size();
        }

        @Override
        public boolean hasMessages() {
            return !queue.isEmpty();
        }

        @Override
        public void cleanUp(ActorRef owner, MessageQueue deadLetters) {
            for (Envelope e = dequeue(); e != null; e = dequeue()) {
                deadLetters.enqueue(owner, e);
            }
        }
    }
}
