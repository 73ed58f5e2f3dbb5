namespace Engine.Training.Data;

/// <summary>
/// An MMRec dataset folder (see shared/spec/EVAL.md): the interactions of <c>&lt;name&gt;.inter</c> split by x_label,
/// and the item features of <c>image_feat.npy</c> and <c>text_feat.npy</c> where present, and for the models that
/// ask for it the fused multimodal features of <c>mm_feat.npy</c> (AlignRec's one vector per item).
/// </summary>
public sealed class Dataset
{
    public const string ImageFeatureFile = "image_feat.npy";
    public const string TextFeatureFile = "text_feat.npy";
    public const string MultimodalFeatureFile = "mm_feat.npy";

    /// <summary>Builds a dataset from parts already in memory; ids and feature rows are checked against the counts.</summary>
    public Dataset(string name, string folder, int users, int items, InteractionSet train, InteractionSet valid,
        InteractionSet test, FeatureMatrix? image = null, FeatureMatrix? text = null, int droppedColdStartRows = 0,
        FeatureMatrix? multimodal = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(users);
        ArgumentOutOfRangeException.ThrowIfNegative(items);
        ArgumentOutOfRangeException.ThrowIfNegative(droppedColdStartRows);
        foreach (var (set, split) in new[] { (train, "train"), (valid, "valid"), (test, "test") })
            set.CheckIds(users, items, split);
        foreach (var (m, what) in new[] { (image, "image"), (text, "text"), (multimodal, "multimodal") })
            if (m is not null && m.Rows != items)
                throw new ArgumentException($"{what} features have {m.Rows} rows but there are {items} items");
        (Name, Folder, Users, Items) = (name, folder, users, items);
        (Train, Valid, Test, Image, Text, Multimodal) = (train, valid, test, image, text, multimodal);
        DroppedColdStartRows = droppedColdStartRows;
    }

    /// <summary>The .inter file's name without its extension (MMRec's dataset name).</summary>
    public string Name { get; }
    public string Folder { get; }

    /// <summary>Max userID + 1 over every row of the file, counting rows the cold-start filter drops, as MMRec does.</summary>
    public int Users { get; }

    /// <summary>Max itemID + 1 over every row of the file, as MMRec does; feature files have exactly this many rows.</summary>
    public int Items { get; }

    public InteractionSet Train { get; }
    public InteractionSet Valid { get; }
    public InteractionSet Test { get; }
    public FeatureMatrix? Image { get; }
    public FeatureMatrix? Text { get; }

    /// <summary>One fused image + text vector per item (AlignRec's BEiT-3 features, or semi-synthetic ones), any width.</summary>
    public FeatureMatrix? Multimodal { get; }

    /// <summary>Valid and test rows dropped because their user has no training row (MMRec's cold-start filter).</summary>
    public int DroppedColdStartRows { get; }

    /// <summary>
    /// Loads <c>&lt;folder name&gt;.inter</c> (else the folder's only *.inter file) and, when
    /// <paramref name="loadFeatures"/>, the image and text feature files that are present; when
    /// <paramref name="loadMultimodal"/>, <c>mm_feat.npy</c> if present. Bad input throws
    /// <see cref="DataFormatException"/> naming the file, line and problem.
    /// </summary>
    public static Dataset Load(string folder, bool loadFeatures = true, bool loadMultimodal = false)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"dataset folder '{folder}' does not exist (looked at {Path.GetFullPath(folder)})");

        var interPath = FindInterFile(folder);
        var rows = InterParser.Parse(interPath, File.ReadAllBytes(interPath));
        int users = rows.MaxUser + 1, items = rows.MaxItem + 1;

        // MMRec counts ids before the filter, so a dropped user still has an id; only its valid/test rows go.
        var hasTrain = new bool[users];
        for (int r = 0; r < rows.Count; r++)
            if (rows.Labels[r] == 0) hasTrain[rows.Users[r]] = true;
        var splits = new List<int>[3];
        for (int s = 0; s < 3; s++) splits[s] = new List<int>();
        int dropped = 0;
        for (int r = 0; r < rows.Count; r++)
        {
            if (!hasTrain[rows.Users[r]]) { dropped++; continue; }
            splits[rows.Labels[r]].Add(r);
        }
        if (splits[0].Count == 0)
            throw new DataFormatException(interPath, null, "no training rows (x_label 0), so there is nothing to train on");
        var sets = splits.Select(rowIndices => rows.Gather(rowIndices)).ToArray();

        FeatureMatrix? image = null, text = null;
        if (loadFeatures)
        {
            image = LoadFeatures(folder, ImageFeatureFile, items, interPath);
            text = LoadFeatures(folder, TextFeatureFile, items, interPath);
        }
        var multimodal = loadMultimodal ? LoadFeatures(folder, MultimodalFeatureFile, items, interPath) : null;
        return new Dataset(Path.GetFileNameWithoutExtension(interPath), Path.GetFullPath(folder), users, items,
            sets[0], sets[1], sets[2], image, text, dropped, multimodal);
    }

    /// <summary>
    /// This dataset with its multimodal features read from <paramref name="path"/> (a .npy of one row per item),
    /// in place of <c>mm_feat.npy</c>.
    /// </summary>
    public Dataset WithMultimodalFeatures(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"multimodal feature file '{path}' does not exist", path);
        var m = NpyFile.Read(path);
        if (m.Rows != Items)
            throw new DataFormatException(path, null, $"has {m.Rows} rows but {Name} has {Items} items; row r must hold item r's features");
        return new Dataset(Name, Folder, Users, Items, Train, Valid, Test, Image, Text, DroppedColdStartRows, m);
    }

    private static string FindInterFile(string folder)
    {
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));
        var preferred = Path.Combine(folder, name + ".inter");
        if (File.Exists(preferred)) return preferred;
        var found = Directory.GetFiles(folder, "*.inter")
            .Where(p => Path.GetExtension(p) == ".inter")
            .Order(StringComparer.Ordinal)
            .ToArray();
        return found.Length switch
        {
            1 => found[0],
            0 => throw new DataFormatException(folder, null,
                $"no .inter file: expected {name}.inter, or exactly one *.inter file, in this folder"),
            _ => throw new DataFormatException(folder, null,
                $"{found.Length} .inter files ({string.Join(", ", found.Select(Path.GetFileName))}) and none is named " +
                $"{name}.inter, so it is ambiguous which to load"),
        };
    }

    private static FeatureMatrix? LoadFeatures(string folder, string fileName, int items, string interPath)
    {
        var path = Path.Combine(folder, fileName);
        if (!File.Exists(path)) return null;
        var m = NpyFile.Read(path);
        if (m.Rows != items)
            throw new DataFormatException(path, null,
                $"has {m.Rows} rows but {Path.GetFileName(interPath)} has {items} items (max itemID + 1); row r must hold item r's features");
        return m;
    }

    /// <summary>Every data row of a .inter file, in file order.</summary>
    private sealed class Rows(int capacity)
    {
        public int[] Users = new int[capacity], Items = new int[capacity];
        public byte[] Labels = new byte[capacity];
        public int Count, MaxUser = -1, MaxItem = -1;

        public InteractionSet Gather(List<int> rowIndices)
        {
            var u = new int[rowIndices.Count];
            var i = new int[rowIndices.Count];
            for (int k = 0; k < u.Length; k++)
            {
                u[k] = Users[rowIndices[k]];
                i[k] = Items[rowIndices[k]];
            }
            return new InteractionSet(u, i);
        }
    }

    /// <summary>
    /// Parses the bytes of a .inter file directly (ids are ASCII digits) rather than through strings, so a 300k-line
    /// file loads in tens of milliseconds.
    /// </summary>
    private static class InterParser
    {
        private static readonly string[] Required = ["userID", "itemID", "x_label"];

        public static Rows Parse(string file, byte[] bytes)
        {
            ReadOnlySpan<byte> rest = bytes;
            if (rest.StartsWith("\uFEFF"u8)) rest = rest[3..];
            if (rest.TrimEnd(" \t\r\n"u8).IsEmpty)
                throw new DataFormatException(file, 1, "the file is empty; expected a header row naming userID, itemID and x_label");

            var (fieldCount, userCol, itemCol, labelCol) = ParseHeader(file, NextLine(ref rest));
            var rows = new Rows(rest.Count((byte)'\n') + 1);
            int lineNo = 1, firstBlank = 0;
            while (!rest.IsEmpty)
            {
                var line = NextLine(ref rest);
                lineNo++;
                if (line.Trim(" \t"u8).IsEmpty)
                {
                    if (firstBlank == 0) firstBlank = lineNo;
                    continue;
                }
                if (firstBlank != 0)
                    throw new DataFormatException(file, firstBlank, "empty line before the end of the data (only trailing empty lines are allowed)");

                int fields = line.Count((byte)'\t') + 1;
                if (fields != fieldCount)
                    throw new DataFormatException(file, lineNo,
                        $"{fields} fields where the header has {fieldCount} (fields are separated by tabs)");
                int user = 0, item = 0, label = 0;
                for (int f = 0; f < fields; f++)
                {
                    int tab = line.IndexOf((byte)'\t');
                    var field = tab < 0 ? line : line[..tab];
                    line = tab < 0 ? default : line[(tab + 1)..];
                    if (f == userCol) user = ParseId(file, lineNo, "userID", field);
                    else if (f == itemCol) item = ParseId(file, lineNo, "itemID", field);
                    else if (f == labelCol) label = ParseLabel(file, lineNo, field);
                }

                int r = rows.Count++;
                rows.Users[r] = user;
                rows.Items[r] = item;
                rows.Labels[r] = (byte)label;
                if (user > rows.MaxUser) rows.MaxUser = user;
                if (item > rows.MaxItem) rows.MaxItem = item;
            }
            if (rows.Count == 0) throw new DataFormatException(file, 2, "the file has a header row but no data rows");
            if (HasDuplicatePair(rows)) ThrowFirstDuplicate(file, rows);
            return rows;
        }

        private static (int Fields, int User, int Item, int Label) ParseHeader(string file, ReadOnlySpan<byte> line)
        {
            var names = new List<string>();
            foreach (var range in line.Split((byte)'\t')) names.Add(DataFormatException.Printable(line[range], MaxQuoted).Trim());
            if (names.Count == 1 && names[0].Length == 0)
                throw new DataFormatException(file, 1, "no header row: line 1 is empty; it must name the columns userID, itemID and x_label");
            if (names.All(n => long.TryParse(n, out _)))
                throw new DataFormatException(file, 1,
                    $"no header row: line 1 holds data ({Listed(names)}); it must name the columns userID, itemID and x_label");
            foreach (var duplicate in names.GroupBy(n => n).Where(g => g.Count() > 1 && Required.Contains(g.Key)))
                throw new DataFormatException(file, 1, $"the header names column {duplicate.Key} more than once");
            var index = Required.Select(r => names.IndexOf(r)).ToArray();
            var missing = Required.Where((_, k) => index[k] < 0).ToArray();
            if (missing.Length > 0)
                throw new DataFormatException(file, 1,
                    $"the header lacks the column{(missing.Length > 1 ? "s" : "")} {string.Join(", ", missing)} " +
                    $"(it has: {Listed(names)}; userID, itemID and x_label are required, tab-separated)");
            return (names.Count, index[0], index[1], index[2]);
        }

        /// <summary>Takes one line off the front, without its LF or CRLF.</summary>
        private static ReadOnlySpan<byte> NextLine(ref ReadOnlySpan<byte> rest)
        {
            int end = rest.IndexOf((byte)'\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? default : rest[(end + 1)..];
            return line.EndsWith((byte)'\r') ? line[..^1] : line;
        }

        private static int ParseId(string file, int lineNo, string column, ReadOnlySpan<byte> field)
        {
            var digits = field.Trim((byte)' ');
            bool negative = digits.StartsWith((byte)'-');
            if (negative) digits = digits[1..];
            if (!TryParseDigits(digits, out long value))
                throw new DataFormatException(file, lineNo, $"{column} '{DataFormatException.Printable(field, MaxQuoted)}' is not an integer");
            if (negative)
                throw new DataFormatException(file, lineNo, $"{column} -{value} is negative; ids are 0-based");
            // max id + 1 is a count, so the largest id must leave room for it.
            if (value >= int.MaxValue)
                throw new DataFormatException(file, lineNo, $"{column} {value} is too large");
            return (int)value;
        }

        private static int ParseLabel(string file, int lineNo, ReadOnlySpan<byte> field)
        {
            var digits = field.Trim((byte)' ');
            bool negative = digits.StartsWith((byte)'-');
            if (!TryParseDigits(negative ? digits[1..] : digits, out long value))
                throw new DataFormatException(file, lineNo, $"x_label '{DataFormatException.Printable(field, MaxQuoted)}' is not an integer; it must be 0 (train), 1 (valid) or 2 (test)");
            if (negative || value > 2)
                throw new DataFormatException(file, lineNo, $"x_label {(negative ? "-" : "")}{value} is outside 0..2 (0 train, 1 valid, 2 test)");
            return (int)value;
        }

        /// <summary>Plain ASCII digits only: no sign, no spaces, no decimal point; values past 19 digits saturate.</summary>
        private static bool TryParseDigits(ReadOnlySpan<byte> digits, out long value)
        {
            value = 0;
            if (digits.IsEmpty) return false;
            foreach (byte b in digits)
            {
                uint d = (uint)(b - '0');
                if (d > 9) return false;
                value = value > (long.MaxValue - 9) / 10 ? long.MaxValue : value * 10 + d;
            }
            return true;
        }

        /// <summary>
        /// Groups items by user and sorts each group: cache-friendly and several times faster than a hash set over
        /// 300k pairs, and only a yes/no is needed unless the file is bad.
        /// </summary>
        private static bool HasDuplicatePair(Rows rows)
        {
            var start = new int[rows.MaxUser + 2];
            for (int r = 0; r < rows.Count; r++) start[rows.Users[r] + 1]++;
            for (int u = 0; u < rows.MaxUser + 1; u++) start[u + 1] += start[u];
            var next = start[..^1];
            var items = new int[rows.Count];
            for (int r = 0; r < rows.Count; r++) items[next[rows.Users[r]]++] = rows.Items[r];
            for (int u = 0; u < rows.MaxUser + 1; u++)
            {
                var group = items.AsSpan(start[u], start[u + 1] - start[u]);
                group.Sort();
                for (int k = 1; k < group.Length; k++)
                    if (group[k] == group[k - 1]) return true;
            }
            return false;
        }

        /// <summary>Rescans in file order to name the first repeat and where its pair first appeared.</summary>
        private static void ThrowFirstDuplicate(string file, Rows rows)
        {
            // Blank lines may only trail the data, so row r is on line r + 2 (the header is line 1).
            var firstRow = new Dictionary<(int, int), int>(rows.Count);
            for (int r = 0; r < rows.Count; r++)
                if (!firstRow.TryAdd((rows.Users[r], rows.Items[r]), r))
                    throw new DataFormatException(file, r + 2,
                        $"duplicate pair: userID {rows.Users[r]}, itemID {rows.Items[r]} already appeared on line {firstRow[(rows.Users[r], rows.Items[r])] + 2}");
        }

        /// <summary>The most characters of file content a message quotes (a field, a header name).</summary>
        private const int MaxQuoted = 40;

        /// <summary>The header's names for a message: the first few, when a binary file's "header" holds many.</summary>
        private static string Listed(List<string> names) =>
            string.Join(", ", names.Take(8)) + (names.Count > 8 ? $", … ({names.Count} in all)" : "");
    }
}

/// <summary>
/// The (user, item) pairs of one split as parallel arrays, in file order. The arrays are shared, not copied: treat
/// them as read-only.
/// </summary>
public sealed class InteractionSet
{
    private sealed record ByUser(int Users, int[][] Lists);

    private ByUser? byUser;

    public InteractionSet(int[] users, int[] items)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(items);
        if (users.Length != items.Length)
            throw new ArgumentException($"{users.Length} users but {items.Length} items; the arrays are parallel");
        Users = users;
        Items = items;
    }

    public int[] Users { get; }
    public int[] Items { get; }
    public int Count => Users.Length;

    /// <summary>
    /// Each user's items, sorted ascending (empty for users with none), for <paramref name="users"/> users. Computed
    /// once per user count and cached; the arrays are shared, so callers must not change them.
    /// </summary>
    public int[][] ItemsByUser(int users)
    {
        var cached = Volatile.Read(ref byUser);
        if (cached is not null && cached.Users == users) return cached.Lists;

        int maxUser = Count == 0 ? -1 : Users.Max();
        if (users <= maxUser || Users.Any(u => u < 0))
            throw new ArgumentOutOfRangeException(nameof(users), users,
                $"the set holds user {(Users.Any(u => u < 0) ? Users.Min() : maxUser)}, so users must be in 0..{users - 1}");
        var counts = new int[users];
        foreach (int u in Users) counts[u]++;
        var lists = new int[users][];
        for (int u = 0; u < users; u++) lists[u] = counts[u] == 0 ? [] : new int[counts[u]];
        Array.Clear(counts);
        for (int k = 0; k < Count; k++) lists[Users[k]][counts[Users[k]]++] = Items[k];
        foreach (var list in lists) Array.Sort(list);

        // Two threads may both compute this; either result is the same, so the last write winning is harmless.
        Volatile.Write(ref byUser, new ByUser(users, lists));
        return lists;
    }

    internal void CheckIds(int users, int items, string split)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(users);
        for (int k = 0; k < Count; k++)
        {
            if ((uint)Users[k] >= (uint)users)
                throw new ArgumentOutOfRangeException(nameof(users), $"{split} set's pair {k} has user {Users[k]}, outside 0..{users - 1}");
            if ((uint)Items[k] >= (uint)items)
                throw new ArgumentOutOfRangeException(nameof(items), $"{split} set's pair {k} has item {Items[k]}, outside 0..{items - 1}");
        }
    }
}
