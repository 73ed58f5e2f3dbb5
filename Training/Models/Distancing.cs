using Engine.Autograd;
using Engine.Training.Layers;

namespace Engine.Training.Models;

/// <summary>SEA's distancing term, shared by SEA and its plug-ins (VBPR+SEA, FREEDOM+SEA).</summary>
internal static class Distancing
{
    /// <summary>
    /// Each modality's unique half pushed from its generic half, text then image: the sum of CLUB's bounds, or of the
    /// negative mean squared distances for <see cref="Distance.L2"/> (SEA.md).
    /// </summary>
    public static Var Of(ClubEstimator club, Distance kind, (Var Generic, Var Unique) text, (Var Generic, Var Unique) image) =>
        kind == Distance.Club
            ? club.Bound(text.Generic, text.Unique) + club.Bound(image.Generic, image.Unique)
            : -Losses.MeanSquaredError(text.Generic, text.Unique) - Losses.MeanSquaredError(image.Generic, image.Unique);
}
