// A long-lived oracle answering with what Spark's JVM side would pickle: the
// net.razorvine.pickle.Pickler that PySpark bundles, constructed as Spark
// constructs it (useMemo = true, valueCompare = false).
//
// Protocol: one request per line on stdin, one answer per line on stdout:
//   request: a value in a small prefix notation (below)
//   answer:  "OK <hex of the pickle>" or "ERR <message>"
// Notation (tokens separated by single spaces; every value gets the next number
// in pre-order, and "@n" refers back to value n, i.e. the same Java object):
//   N | T | F                       null, Boolean.TRUE, Boolean.FALSE
//   i:<dec> | l:<dec> | g:<dec>     Integer, Long, BigInteger
//   d:<16 hex digits>               Double from its IEEE bits
//   s:<hex of UTF-8>                a new String
//   b:<hex>                         byte[]
//   D:<hex of UTF-8 text>           new BigDecimal(text)
//   C:<epoch millis>:<tz id>        GregorianCalendar in that time zone
//   Q:<epoch millis>                java.sql.Date
//   A:<kind>:<v>,<v>,…              a primitive array (kind: int, long, short,
//                                   double, float, boolean, char); numbers in
//                                   decimal (double/float as IEEE bits in hex),
//                                   booleans as 0/1, chars as code units in
//                                   decimal; "A:int:" is an empty int[]
//   ( … )  [ … ]  { k v … }  < … >  Object[], ArrayList, LinkedHashMap, LinkedHashSet
// Special requests:
//   AUTOBATCH <value>               Spark's SerDeUtil.AutoBatchedPickler over an Object[]
//   BENCH <warmups> <reps> <hex,…>  times Unpickler.loads over all the pickles and
//                                   Pickler(true, false).dumps over the loaded objects,
//                                   each best of <reps> after <warmups> untimed rounds;
//                                   answers "OK <loads ns> <dumps ns> <hex of each dump,…>"
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Calendar;
import java.util.GregorianCalendar;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TimeZone;

import net.razorvine.pickle.Pickler;
import net.razorvine.pickle.Unpickler;

public class PyroliteOracle {
    private final String[] toks;
    private int pos = 0;
    private final List<Object> made = new ArrayList<>();

    private PyroliteOracle(String line) {
        this.toks = line.trim().isEmpty() ? new String[0] : line.trim().split(" ");
    }

    private static byte[] unhex(String h) {
        byte[] b = new byte[h.length() / 2];
        for (int i = 0; i < b.length; i++) {
            int hi = Character.digit(h.charAt(2 * i), 16), lo = Character.digit(h.charAt(2 * i + 1), 16);
            if (hi < 0 || lo < 0) throw new IllegalArgumentException("bad hex at " + 2 * i);
            b[i] = (byte) (hi << 4 | lo);
        }
        return b;
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder(b.length * 2);
        for (byte x : b) {
            sb.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
        }
        return sb.toString();
    }

    private Object value() {
        String t = toks[pos++];
        if (t.startsWith("@")) {
            return made.get(Integer.parseInt(t.substring(1)));
        }
        int slot = made.size();
        made.add(null);
        Object v;
        switch (t) {
            case "N": v = null; break;
            case "T": v = Boolean.TRUE; break;
            case "F": v = Boolean.FALSE; break;
            case "(": {
                List<Object> items = new ArrayList<>();
                while (!toks[pos].equals(")")) items.add(value());
                pos++;
                v = items.toArray();
                break;
            }
            case "[": {
                List<Object> l = new ArrayList<>();
                made.set(slot, l);
                while (!toks[pos].equals("]")) l.add(value());
                pos++;
                v = l;
                break;
            }
            case "{": {
                Map<Object, Object> m = new LinkedHashMap<>();
                made.set(slot, m);
                while (!toks[pos].equals("}")) {
                    Object k = value();
                    m.put(k, value());
                }
                pos++;
                v = m;
                break;
            }
            case "<": {
                Set<Object> s = new LinkedHashSet<>();
                made.set(slot, s);
                while (!toks[pos].equals(">")) s.add(value());
                pos++;
                v = s;
                break;
            }
            default: {
                String arg = t.substring(2);
                switch (t.charAt(0)) {
                    case 'i': v = Integer.valueOf(arg); break;
                    case 'l': v = Long.valueOf(arg); break;
                    case 'g': v = new BigInteger(arg); break;
                    case 'd': v = Double.longBitsToDouble(Long.parseUnsignedLong(arg, 16)); break;
                    case 's': v = new String(unhex(arg), StandardCharsets.UTF_8); break;
                    case 'b': v = unhex(arg); break;
                    case 'D': v = new BigDecimal(new String(unhex(arg), StandardCharsets.UTF_8)); break;
                    case 'C': {
                        String[] p = arg.split(":");
                        Calendar c = new GregorianCalendar(TimeZone.getTimeZone(p[1]));
                        c.setTimeInMillis(Long.parseLong(p[0]));
                        v = c;
                        break;
                    }
                    case 'Q': v = new java.sql.Date(Long.parseLong(arg)); break;
                    case 'A': v = primitiveArray(arg); break;
                    default: throw new IllegalArgumentException("unknown token " + t);
                }
            }
        }
        made.set(slot, v);
        return v;
    }

    private static Object primitiveArray(String arg) {
        int colon = arg.indexOf(':');
        String kind = arg.substring(0, colon);
        String body = arg.substring(colon + 1);
        String[] p = body.isEmpty() ? new String[0] : body.split(",");
        int n = p.length;
        switch (kind) {
            case "int": { int[] a = new int[n]; for (int i = 0; i < n; i++) a[i] = Integer.parseInt(p[i]); return a; }
            case "long": { long[] a = new long[n]; for (int i = 0; i < n; i++) a[i] = Long.parseLong(p[i]); return a; }
            case "short": { short[] a = new short[n]; for (int i = 0; i < n; i++) a[i] = Short.parseShort(p[i]); return a; }
            case "double": { double[] a = new double[n]; for (int i = 0; i < n; i++) a[i] = Double.longBitsToDouble(Long.parseUnsignedLong(p[i], 16)); return a; }
            case "float": { float[] a = new float[n]; for (int i = 0; i < n; i++) a[i] = Float.intBitsToFloat(Integer.parseUnsignedInt(p[i], 16)); return a; }
            case "boolean": { boolean[] a = new boolean[n]; for (int i = 0; i < n; i++) a[i] = p[i].equals("1"); return a; }
            case "char": { char[] a = new char[n]; for (int i = 0; i < n; i++) a[i] = (char) Integer.parseInt(p[i]); return a; }
            default: throw new IllegalArgumentException("unknown primitive array kind " + kind);
        }
    }

    // Runs Spark's own org.apache.spark.api.python.SerDeUtil.AutoBatchedPickler
    // (from the pyspark jars on the class path, found by reflection so that this
    // file compiles against the Pyrolite jar alone) over the items; answers the
    // batches' hex, comma-separated.
    private static String autoBatch(Object[] items) throws Exception {
        java.util.Iterator<Object> javaIt = java.util.Arrays.asList(items).iterator();
        Object scalaIt;
        try {
            scalaIt = Class.forName("scala.jdk.javaapi.CollectionConverters")
                .getMethod("asScala", java.util.Iterator.class).invoke(null, javaIt);
        } catch (ClassNotFoundException e) {
            scalaIt = Class.forName("scala.collection.JavaConverters")
                .getMethod("asScalaIterator", java.util.Iterator.class).invoke(null, javaIt);
        }
        Class<?> iterType = Class.forName("scala.collection.Iterator");
        Object pickler = Class.forName("org.apache.spark.api.python.SerDeUtil$AutoBatchedPickler")
            .getConstructor(iterType).newInstance(scalaIt);
        java.lang.reflect.Method hasNext = iterType.getMethod("hasNext");
        java.lang.reflect.Method next = iterType.getMethod("next");
        StringBuilder sb = new StringBuilder();
        while ((Boolean) hasNext.invoke(pickler)) {
            if (sb.length() > 0) sb.append(',');
            sb.append(hex((byte[]) next.invoke(pickler)));
        }
        return sb.toString();
    }

    // Pyrolite's own speed, for the benchmark's same-run ratios. One Unpickler and
    // one Pickler per round, reused across the pickles as Spark's SerDeUtil reuses
    // them across a partition's batches; the loaded objects stay alive until the
    // round ends, so allocation (and any collection it triggers) is timed.
    private static String bench(int warmups, int reps, String hexes) throws Exception {
        String[] parts = hexes.isEmpty() ? new String[0] : hexes.split(",");
        byte[][] pickles = new byte[parts.length][];
        for (int i = 0; i < parts.length; i++) pickles[i] = unhex(parts[i]);
        Object[] loaded = new Object[pickles.length];
        byte[][] dumped = new byte[pickles.length][];
        long bestLoads = Long.MAX_VALUE, bestDumps = Long.MAX_VALUE;
        for (int round = 0; round < warmups + reps; round++) {
            java.util.Arrays.fill(loaded, null);
            long t0 = System.nanoTime();
            Unpickler u = new Unpickler();
            for (int i = 0; i < pickles.length; i++) loaded[i] = u.loads(pickles[i]);
            u.close();
            long t1 = System.nanoTime();
            Pickler p = new Pickler(true, false);
            for (int i = 0; i < loaded.length; i++) dumped[i] = p.dumps(loaded[i]);
            p.close();
            long t2 = System.nanoTime();
            if (round >= warmups) {
                bestLoads = Math.min(bestLoads, t1 - t0);
                bestDumps = Math.min(bestDumps, t2 - t1);
            }
        }
        StringBuilder sb = new StringBuilder();
        sb.append(bestLoads).append(' ').append(bestDumps).append(' ');
        for (int i = 0; i < dumped.length; i++) {
            if (i > 0) sb.append(',');
            sb.append(hex(dumped[i]));
        }
        return sb.toString();
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(System.out, true, "UTF-8");
        // How many requests were answered, for the test command's summary:
        // $SPARKWIRE_ORACLE_COUNTS/pyrolite-<version>.<pid>, rewritten after each.
        String countDir = System.getenv("SPARKWIRE_ORACLE_COUNTS");
        java.nio.file.Path countFile = countDir == null ? null
            : java.nio.file.Paths.get(countDir, "pyrolite-" + System.getProperty("sparkwire.version", "unknown")
                + "." + ProcessHandle.current().pid());
        if (countFile != null) {
            java.nio.file.Files.createDirectories(countFile.getParent());
        }
        long answered = 0;
        String line;
        while ((line = in.readLine()) != null) {
            String reply;
            try {
                if (line.startsWith("BENCH ")) {
                    String[] p = line.split(" ", 4);
                    reply = "OK " + bench(Integer.parseInt(p[1]), Integer.parseInt(p[2]),
                        p.length > 3 ? p[3] : "");
                } else if (line.startsWith("AUTOBATCH ")) {
                    Object[] items = (Object[]) new PyroliteOracle(line.substring(10)).value();
                    reply = "OK " + autoBatch(items);
                } else {
                    Object v = new PyroliteOracle(line).value();
                    reply = "OK " + hex(new Pickler(true, false).dumps(v));
                }
            } catch (Throwable e) {
                reply = "ERR " + e.toString().replace('\n', ' ');
            }
            out.println(reply);
            answered++;
            if (countFile != null) {
                java.nio.file.Files.write(countFile, (answered + "\n").getBytes(StandardCharsets.UTF_8));
            }
        }
    }
}
