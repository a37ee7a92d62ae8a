// placeholder until the ot module lands
namespace otfuse {}
