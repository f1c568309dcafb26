package dev.eventproc.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Generates payment events the way real feeds deliver them: duplicates (exact re-sends), events out
 * of order in event time, several versions per key arriving in any order, deletes and malformed
 * payloads. Deterministic for a seed. Alongside the messages it computes the oracle, the expected
 * final state, from the generated events alone (no Spark involved).
 *
 * <p>Event JSON: {@code payment_id, account_id, amount, currency, version, op ('u' or 'd'), event_time}
 * ({@link #SCHEMA}). From event {@link Spec#schemaV2From()} on (in the order events are stamped, which is the
 * order they are first sent), events are of a second schema ({@link #SCHEMA_V2}): they carry the added field
 * {@code channel} and, unless {@link Spec#widenV2()} is off, an amount raised by {@link #V2_AMOUNT_RAISE}, which
 * DECIMAL(12,2) cannot hold. Events before that point are the same as without a second schema; re-sent
 * duplicates are copies of their event, so a copy of a v1 event can arrive after the point.
 *
 * <p>Event times lie in the past of the clock the spec is made with ({@link Spec#payments(int, long, Clock)}):
 * a pipeline quarantines events further ahead of the time it received them than
 * {@code source.max.future.skew}, so a feed starting at a fixed date would be quarantined whole on a clock
 * before that date.
 */
public final class EventGenerator {
  /** Spark DDL of the generated events. */
  public static final String SCHEMA =
      "payment_id STRING, account_id STRING, amount DECIMAL(12,2), currency STRING, version BIGINT, op STRING, event_time TIMESTAMP";
  /** Spark DDL of the second schema: {@code channel} added, {@code amount} widened (an accepted change). */
  public static final String SCHEMA_V2 =
      "payment_id STRING, account_id STRING, amount DECIMAL(16,2), currency STRING, version BIGINT, op STRING, event_time TIMESTAMP, "
          + "channel STRING";
  /** The second schema without the widening (for sinks that cannot widen in place: Delta, files). */
  public static final String SCHEMA_V2_ADDED_ONLY =
      "payment_id STRING, account_id STRING, amount DECIMAL(12,2), currency STRING, version BIGINT, op STRING, event_time TIMESTAMP, "
          + "channel STRING";
  /** Added to a widened v2 event's amount: 10,000,000,000.00, beyond DECIMAL(12,2). */
  public static final BigDecimal V2_AMOUNT_RAISE = new BigDecimal("10000000000.00");
  /** {@link Spec#schemaV2From()} of a feed that stays on the first schema. */
  public static final long NO_SCHEMA_V2 = Long.MAX_VALUE;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] CURRENCIES = {"EUR", "USD", "GBP", "CHF"};
  private static final String[] CHANNELS = {"web", "app", "pos"};

  /**
   * What to generate.
   *
   * @param keys distinct payment ids
   * @param versionsPerKey versions (updates) per payment id, 1 for immutable events
   * @param duplicateRate fraction of events sent twice (the copy a little later)
   * @param outOfOrderRate fraction of events whose event time lags behind the stream's
   * @param maxLateness how far such events lag, at most
   * @param deleteRate fraction of keys whose last version is a delete
   * @param malformedRate malformed payloads per valid event
   * @param seed random seed
   * @param start event time of the first event
   * @param spacing event-time step between consecutive events
   * @param schemaV2From index of the first event of the second schema ({@link #NO_SCHEMA_V2}: none)
   * @param widenV2 whether second-schema amounts need the widened type (else only {@code channel} is added)
   */
  public record Spec(int keys, int versionsPerKey, double duplicateRate, double outOfOrderRate, Duration maxLateness,
      double deleteRate, double malformedRate, long seed, Instant start, Duration spacing, long schemaV2From, boolean widenV2) {
    /** A feed of the first schema only. */
    public Spec(int keys, int versionsPerKey, double duplicateRate, double outOfOrderRate, Duration maxLateness,
        double deleteRate, double malformedRate, long seed, Instant start, Duration spacing) {
      this(keys, versionsPerKey, duplicateRate, outOfOrderRate, maxLateness, deleteRate, malformedRate, seed, start, spacing,
          NO_SCHEMA_V2, true);
    }

    /** The demo's feed, its event times before now: {@link #payments(int, long, Clock)} with the system clock. */
    public static Spec payments(int keys, long seed) {
      return payments(keys, seed, Clock.systemUTC());
    }

    /**
     * The demo's feed: immutable payments, 5% duplicates, 10% out of order (under 2 minutes), 0.5% malformed,
     * starting at {@link #startBefore} {@code clock}'s time: the same events for a seed all day (UTC).
     */
    public static Spec payments(int keys, long seed, Clock clock) {
      Duration spacing = Duration.ofMillis(10);
      return new Spec(keys, 1, 0.05, 0.10, Duration.ofMinutes(2), 0, 0.005, seed,
          startBefore(clock.instant(), keys, spacing), spacing);
    }

    /**
     * Where a feed of {@code events} events {@code spacing} apart starts so that all of it lies before
     * {@code now}: midnight (UTC) at least a day before the last event would reach {@code now}. The day of
     * margin leaves room for a spec changed afterwards (a longer spacing); the midnight keeps a seed's events
     * the same all day.
     */
    public static Instant startBefore(Instant now, long events, Duration spacing) {
      return now.minus(spacing.multipliedBy(events)).minus(Duration.ofDays(1)).truncatedTo(ChronoUnit.DAYS);
    }

    /** The same feed with several versions per key; it starts earlier by the events added, so it ends no later. */
    public Spec withVersions(int versions, double deleteRate) {
      Instant earlier = start.minus(spacing.multipliedBy((long) keys * Math.max(0, versions - versionsPerKey)));
      return new Spec(keys, versions, duplicateRate, outOfOrderRate, maxLateness, deleteRate, malformedRate, seed, earlier, spacing,
          schemaV2From, widenV2);
    }

    public Spec withMalformedRate(double rate) {
      return new Spec(keys, versionsPerKey, duplicateRate, outOfOrderRate, maxLateness, deleteRate, rate, seed, start, spacing,
          schemaV2From, widenV2);
    }

    public Spec withDuplicateRate(double rate) {
      return new Spec(keys, versionsPerKey, rate, outOfOrderRate, maxLateness, deleteRate, malformedRate, seed, start, spacing,
          schemaV2From, widenV2);
    }

    /** The same feed with events of the second schema from event {@code from} on; {@code widen}: amounts beyond v1's type. */
    public Spec withSchemaV2From(long from, boolean widen) {
      return new Spec(keys, versionsPerKey, duplicateRate, outOfOrderRate, maxLateness, deleteRate, malformedRate, seed, start,
          spacing, from, widen);
    }

    /** The events of the feed (each sent once, plus its duplicates). */
    public long events() {
      return (long) keys * versionsPerKey;
    }
  }

  /** One valid event; {@code channel} is null for an event of the first schema. */
  public record Event(String paymentId, String accountId, BigDecimal amount, String currency, long version,
      boolean delete, Instant eventTime, String channel) {
    /** An event of the first schema. */
    public Event(String paymentId, String accountId, BigDecimal amount, String currency, long version, boolean delete,
        Instant eventTime) {
      this(paymentId, accountId, amount, currency, version, delete, eventTime, null);
    }

    /** Whether the event is of the second schema ({@link #SCHEMA_V2}). */
    public boolean v2() {
      return channel != null;
    }

    public String json() {
      ObjectNode n = JSON.createObjectNode();
      n.put("payment_id", paymentId);
      n.put("account_id", accountId);
      n.put("amount", amount);
      n.put("currency", currency);
      n.put("version", version);
      n.put("op", delete ? "d" : "u");
      n.put("event_time", eventTime.toString());
      if (channel != null) {
        n.put("channel", channel);
      }
      try {
        return JSON.writeValueAsString(n);
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** One message as sent: the payload and, for valid events, the event (null for malformed ones). */
  public record Message(String key, String payload, Event event) {
    public boolean malformed() {
      return event == null;
    }
  }

  /** The generated feed and its oracle. */
  public record Output(List<Message> messages, Oracle oracle) {}

  /**
   * The expected outcome, computed from the messages in the order they are sent.
   *
   * @param validMessages messages that parse, duplicates included
   * @param malformed messages that do not (all must end in quarantine)
   * @param duplicates exact re-sends among the valid messages
   * @param outOfOrder events whose event time lags behind an earlier event's
   * @param firstSeen per key, the first valid event sent (what first-seen dedupe plus insert-if-absent keep)
   * @param latest per key, the highest version unless it is a delete (what upsert with deletes keeps)
   */
  public record Oracle(long validMessages, long malformed, long duplicates, long outOfOrder,
      Map<String, Event> firstSeen, Map<String, Event> latest) {
    public BigDecimal firstSeenAmount() {
      return firstSeen.values().stream().map(Event::amount).reduce(BigDecimal.ZERO, BigDecimal::add);
    }

    public BigDecimal latestAmount() {
      return latest.values().stream().map(Event::amount).reduce(BigDecimal.ZERO, BigDecimal::add);
    }
  }

  private EventGenerator() {}

  public static Output generate(Spec spec) {
    Random rnd = new Random(spec.seed());
    List<Event> base = new ArrayList<>();
    for (int k = 0; k < spec.keys(); k++) {
      String id = String.format("p-%08d", k);
      String account = "acct-" + rnd.nextInt(Math.max(1, spec.keys() / 20 + 1));
      String currency = CURRENCIES[rnd.nextInt(CURRENCIES.length)];
      boolean deleted = rnd.nextDouble() < spec.deleteRate();
      for (int v = 1; v <= spec.versionsPerKey(); v++) {
        BigDecimal amount = BigDecimal.valueOf(100 + rnd.nextInt(99_900), 2).setScale(2, RoundingMode.UNNECESSARY);
        base.add(new Event(id, account, amount, currency, v, deleted && v == spec.versionsPerKey(), null));
      }
    }
    if (spec.versionsPerKey() > 1) {
      Collections.shuffle(base, rnd); // versions of a key arrive in any order
    }

    // Stamp event times in send order; some lag behind (out of order).
    List<Event> timed = new ArrayList<>(base.size());
    long outOfOrder = 0;
    for (int i = 0; i < base.size(); i++) {
      Instant t = spec.start().plus(spec.spacing().multipliedBy(i));
      if (rnd.nextDouble() < spec.outOfOrderRate()) {
        t = t.minusMillis((long) (rnd.nextDouble() * spec.maxLateness().toMillis()));
        outOfOrder++;
      }
      Event e = base.get(i);
      // The second schema takes nothing from rnd, so the feed's other choices stay as without it.
      boolean v2 = i >= spec.schemaV2From();
      BigDecimal amount = v2 && spec.widenV2() ? e.amount().add(V2_AMOUNT_RAISE) : e.amount();
      timed.add(new Event(e.paymentId(), e.accountId(), amount, e.currency(), e.version(), e.delete(), t,
          v2 ? CHANNELS[i % CHANNELS.length] : null));
    }

    // Duplicates: an exact copy of an event, sent up to 2,000 messages later.
    List<List<Event>> slots = new ArrayList<>();
    for (Event e : timed) {
      List<Event> slot = new ArrayList<>();
      slot.add(e);
      slots.add(slot);
    }
    long duplicates = 0;
    for (int i = 0; i < timed.size(); i++) {
      if (rnd.nextDouble() < spec.duplicateRate()) {
        int at = Math.min(timed.size() - 1, i + rnd.nextInt(2000));
        slots.get(at).add(timed.get(i));
        duplicates++;
      }
    }

    List<Message> messages = new ArrayList<>();
    long malformed = 0;
    for (List<Event> slot : slots) {
      for (Event e : slot) {
        messages.add(new Message(e.paymentId(), e.json(), e));
        if (rnd.nextDouble() < spec.malformedRate()) {
          messages.add(new Message(null, malformedPayload(rnd, e, malformed), null));
          malformed++;
        }
      }
    }

    Map<String, Event> firstSeen = new LinkedHashMap<>();
    Map<String, Event> newest = new LinkedHashMap<>();
    long valid = 0;
    for (Message m : messages) {
      if (m.malformed()) {
        continue;
      }
      valid++;
      Event e = m.event();
      firstSeen.putIfAbsent(e.paymentId(), e);
      newest.merge(e.paymentId(), e, (a, b) -> b.version() > a.version() ? b : a);
    }
    Map<String, Event> latest = new LinkedHashMap<>();
    newest.forEach((k, e) -> {
      if (!e.delete()) {
        latest.put(k, e);
      }
    });
    return new Output(List.copyOf(messages), new Oracle(valid, malformed, duplicates, outOfOrder, firstSeen, latest));
  }

  /** Kinds of bad input, in turn: not JSON, no key, wrong type, no event time, a clock far ahead. */
  private static String malformedPayload(Random rnd, Event near, long n) {
    String t = near.eventTime().toString();
    return switch ((int) (n % 5)) {
      case 0 -> "{\"payment_id\": \"" + near.paymentId() + "\", \"amount\": 12.5, ";
      case 1 -> "{\"account_id\":\"acct-1\",\"amount\":10.00,\"currency\":\"EUR\",\"version\":1,\"op\":\"u\",\"event_time\":\"" + t + "\"}";
      case 2 -> "{\"payment_id\":\"bad-" + n + "\",\"amount\":\"twelve\",\"currency\":\"EUR\",\"version\":1,\"op\":\"u\",\"event_time\":\"" + t + "\"}";
      case 3 -> "{\"payment_id\":\"bad-" + n + "\",\"amount\":1.00,\"currency\":\"EUR\",\"version\":1,\"op\":\"u\"}";
      default -> "{\"payment_id\":\"bad-" + n + "\",\"amount\":1.00,\"currency\":\"EUR\",\"version\":1,\"op\":\"u\",\"event_time\":\""
          + near.eventTime().plus(Duration.ofDays(4000 + rnd.nextInt(1000))) + "\"}";
    };
  }
}
