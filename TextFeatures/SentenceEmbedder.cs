using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Tokenizers;

namespace Engine.TextFeatures;

/// <summary>
/// MMRec's text features: sentence-transformers all-MiniLM-L6-v2 with max_seq_length 256 — BERT-uncased WordPiece
/// tokens cut to 256 including [CLS] and [SEP], the transformer, mean pooling over the attention mask, L2 norm.
/// </summary>
public sealed class SentenceEmbedder : IDisposable
{
    public const int Dimension = 384;
    public const int MaxTokens = 256;

    private readonly BertTokenizer _tokenizer;
    private readonly InferenceSession _session;

    public SentenceEmbedder()
    {
        // BertTokenizer strips accents through string.Normalize, which without ICU leaves "é" whole ([UNK] ids).
        if ("é".Normalize(System.Text.NormalizationForm.FormD).Length != 2)
            throw new NotSupportedException("text features need Unicode normalisation: run with ICU (InvariantGlobalization off)");
        using (var vocabulary = MiniLmModel.OpenVocabulary())
            // The reference tokenizer (HF BertTokenizer, do_lower_case) also strips accents and splits CJK characters.
            _tokenizer = BertTokenizer.Create(vocabulary, new BertOptions
            {
                LowerCaseBeforeTokenization = true,
                ApplyBasicTokenization = true,
                IndividuallyTokenizeCjk = true,
                RemoveNonSpacingMarks = true,
            });
        _session = new InferenceSession(MiniLmModel.ReadModel());
    }

    /// <summary>[CLS] + the sentence's first 254 WordPiece ids + [SEP].</summary>
    public int[] Tokenize(string sentence)
    {
        var ids = _tokenizer.EncodeToIds(sentence, addSpecialTokens: false, considerPreTokenization: true, considerNormalization: true);
        int kept = Math.Min(ids.Count, MaxTokens - 2);
        var tokens = new int[kept + 2];
        tokens[0] = _tokenizer.ClassificationTokenId;
        for (int i = 0; i < kept; i++) tokens[i + 1] = ids[i];
        tokens[^1] = _tokenizer.SeparatorTokenId;
        return tokens;
    }

    /// <summary>
    /// Embeds every sentence; row i of the result (row-major, <see cref="Dimension"/> wide) is sentence i.
    /// <paramref name="done"/> is told the running count after each batch.
    /// </summary>
    public float[] Embed(IReadOnlyList<string> sentences, int batchSize, Action<int>? done = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var tokens = sentences.Select(Tokenize).ToArray();
        // Batches of similar length, so that padding costs little; rows go back to their own place.
        var order = Enumerable.Range(0, tokens.Length).OrderBy(i => tokens[i].Length).ToArray();
        var result = new float[(long)tokens.Length * Dimension];
        for (int start = 0; start < order.Length; start += batchSize)
        {
            var batch = order.AsSpan(start, Math.Min(batchSize, order.Length - start)).ToArray();
            EmbedBatch(batch.Select(i => tokens[i]).ToArray(), batch, result);
            done?.Invoke(start + batch.Length);
        }
        return result;
    }

    private void EmbedBatch(int[][] tokens, int[] rows, float[] result)
    {
        int b = tokens.Length, width = tokens.Max(t => t.Length);
        var ids = new DenseTensor<long>([b, width]);
        var mask = new DenseTensor<long>([b, width]);
        var types = new DenseTensor<long>([b, width]); // one segment: all zeros
        for (int r = 0; r < b; r++)
            for (int t = 0; t < tokens[r].Length; t++)
            {
                ids[r, t] = tokens[r][t]; // padding stays 0, which is [PAD]
                mask[r, t] = 1;
            }
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", ids),
            NamedOnnxValue.CreateFromTensor("attention_mask", mask),
            NamedOnnxValue.CreateFromTensor("token_type_ids", types),
        };
        using var outputs = _session.Run(inputs);
        // Token embeddings [b, width, 384], row-major.
        var hidden = outputs.Single(o => o.Name == "last_hidden_state").AsTensor<float>().ToDenseTensor().Buffer.Span;

        var sum = new double[Dimension];
        for (int r = 0; r < b; r++)
        {
            Array.Clear(sum);
            int n = tokens[r].Length;
            for (int t = 0; t < n; t++)
            {
                var token = hidden.Slice((r * width + t) * Dimension, Dimension);
                for (int d = 0; d < Dimension; d++) sum[d] += token[d];
            }
            double norm = 0;
            for (int d = 0; d < Dimension; d++) { sum[d] /= n; norm += sum[d] * sum[d]; }
            // sentence-transformers' Normalize: x / max(‖x‖, 1e-12).
            norm = Math.Max(Math.Sqrt(norm), 1e-12);
            var row = result.AsSpan(rows[r] * Dimension, Dimension);
            for (int d = 0; d < Dimension; d++) row[d] = (float)(sum[d] / norm);
        }
    }

    public void Dispose() => _session.Dispose();
}
